"""A server whose log directory cannot be written refuses to start and says which directory and
what to do (system check core.E010), instead of a traceback from logging's set-up.

Tests run as root, for whom permission bits mean nothing, so "unwritable" is made for real: a
log directory whose parent is a regular file (no one can create it), and, where the machine
lets us make a private mount namespace (``unshare --mount``, CAP_SYS_ADMIN), a directory on a
read-only tmpfs mount that only the server's process sees."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
from pathlib import Path

from django.conf import settings

from config.tests.servers import server_environment
from core.checks import log_directory_is_writable

VENV_BIN = Path(sys.executable).parent


def under_a_file(tmp_path: Path) -> Path:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    return blocker / "logs"


def can_mount_read_only(tmp_path: Path) -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(
        ["unshare", "--mount", "mount", "-t", "tmpfs", "-o", "ro", "tmpfs", str(tmp_path)],
        capture_output=True,
        check=False,
    )
    return probe.returncode == 0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def point_logs_at(settings, directory: Path) -> None:
    logging = {**settings.LOGGING, "handlers": dict(settings.LOGGING["handlers"])}
    logging["handlers"]["security_file"] = {
        **logging["handlers"]["security_file"],
        "filename": str(directory / "security.log"),
    }
    settings.LOGGING = logging
    settings.MASQUERADE_LOG_FILE = directory / "masquerade.log"


def test_the_check_names_the_unwritable_directory_and_the_fix(settings, tmp_path):
    directory = under_a_file(tmp_path)
    point_logs_at(settings, directory)
    [error] = log_directory_is_writable()
    assert error.id == "core.E010"
    assert str(directory) in error.msg
    assert "Not a directory" in error.msg
    assert "LOG_DIR" in error.hint


def test_the_check_passes_and_creates_a_missing_directory(settings, tmp_path):
    point_logs_at(settings, tmp_path / "new" / "logs")
    assert log_directory_is_writable() == []
    assert (tmp_path / "new" / "logs" / "security.log").exists()


def test_manage_py_check_deploy_reports_it(tmp_path):
    directory = under_a_file(tmp_path)
    env = server_environment(
        directory, DJANGO_SETTINGS_MODULE="config.settings.production", TRUSTED_PROXY_COUNT="0"
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert f"(core.E010) The log directory {directory} is not writable" in result.stderr
    assert "(core.W011) SECURE_PROXY_SSL_HEADER trusts a proxy" in result.stderr


def test_gunicorn_refuses_to_start_with_the_checks_message(tmp_path):
    command = [
        str(VENV_BIN / "gunicorn"), "config.wsgi", "--workers", "1", "--graceful-timeout", "1",
        "--bind", f"127.0.0.1:{free_port()}",
    ]  # fmt: skip
    # A read-only directory where this machine allows one; a directory under a file elsewhere
    # (the check's own test above covers that case in-process).
    directory = tmp_path / "logs"
    directory.mkdir()
    if can_mount_read_only(directory):
        mount = f'mount -t tmpfs -o ro tmpfs {directory} && exec "$@"'
        command = ["unshare", "--mount", "sh", "-c", mount, "sh", *command]
        reason = "Read-only file system"
    else:
        directory = under_a_file(tmp_path)
        reason = "Not a directory"
    started = subprocess.run(
        command,
        cwd=settings.BASE_DIR,
        env=server_environment(directory),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert started.returncode == 3  # gunicorn: "Worker failed to boot", the server halts
    assert f"(core.E010) The log directory {directory} is not writable ({reason})" in started.stderr
    assert "point LOG_DIR at a writable directory" in started.stderr
    assert "logging.config" not in started.stderr
