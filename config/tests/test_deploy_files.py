"""The compose files parse. Only a compose tool is needed for that, not a Docker engine."""

import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings

COMPOSE_FILES = ["docker-compose.yml", "docker-compose.production.yml"]


def compose_command() -> list[str] | None:
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True, check=False)
        if probe.returncode == 0:
            return ["docker", "compose"]
    return None


@pytest.mark.parametrize("compose_file", COMPOSE_FILES)
def test_compose_file_is_valid(compose_file: str, tmp_path: Path) -> None:
    command = compose_command()
    if command is None:
        pytest.skip(
            "no compose tool here (install Debian's docker-compose to validate these files)"
        )
    # Validate a copy beside a .env made from .env.example: both files read .env, never committed.
    base = Path(settings.BASE_DIR)
    shutil.copy(base / compose_file, tmp_path / compose_file)
    shutil.copy(base / ".env.example", tmp_path / ".env")
    result = subprocess.run(
        [*command, "-f", compose_file, "config", "-q"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        env={
            "PATH": "/usr/bin:/bin:/usr/local/bin",
            "POSTGRES_PASSWORD": "x",
            "HOME": str(tmp_path),
        },
    )
    assert result.returncode == 0, result.stderr
