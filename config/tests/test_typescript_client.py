"""The TypeScript client (clients/typescript) against a live server: its types are generated
afresh from the schema the server serves, the committed ones must be the same, and a script
type-checked by ``tsc`` against them signs in, lists services, fetches availability, books,
reschedules, rotates its tokens, cancels and signs out. A schema that drifts from what the
client relies on fails here, at compile time or at run time."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings

from appointments.models import Appointment
from appointments.tests.live import committed_schedule, request, serving
from conftest import HOST_A, PASSWORD, connection
from tenancy.provisioning import on_own_connection

CLIENT = Path(settings.BASE_DIR) / "clients" / "typescript"
NODE_BIN = CLIENT / "node_modules" / ".bin"

pytestmark = pytest.mark.skipif(
    not (shutil.which("node") and shutil.which("npm") and (NODE_BIN / "tsc").exists()),
    reason="needs Node.js and clients/typescript/node_modules (make test runs npm ci there)",
)


def _run(command: list[str], cwd: Path, **env: str) -> str:
    done = subprocess.run(
        command, cwd=cwd, env={**os.environ, **env}, capture_output=True, text=True,
        timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, (command, done.stdout[-3000:], done.stderr[-3000:])
    return done.stdout


def test_the_generated_client_books_reschedules_and_cancels_on_a_live_server(db, tmp_path):
    on_own_connection(lambda: _client_against_a_live_server(tmp_path))


def _client_against_a_live_server(tmp_path: Path) -> None:
    client = tmp_path / "client"
    shutil.copytree(CLIENT, client, ignore=shutil.ignore_patterns("node_modules", "dist"))
    (client / "node_modules").symlink_to(CLIENT / "node_modules")
    with committed_schedule() as world, serving() as port:
        schema = request(port, "GET", "/api/schema/?format=json", host=HOST_A)
        assert schema.status == 200
        (tmp_path / "schema.json").write_bytes(schema.body)
        _run(["npm", "run", "--silent", "generate", "--", str(tmp_path / "schema.json"),
              "-o", "src/schema.d.ts"], client)  # fmt: skip
        fresh = (client / "src" / "schema.d.ts").read_text()
        assert fresh == (CLIENT / "src" / "schema.d.ts").read_text(), (
            "clients/typescript/src/schema.d.ts is not what the live schema generates: "
            "run `make client` and commit the result"
        )
        _run([str(NODE_BIN / "tsc"), "-p", "."], client)
        day = world.day.date().isoformat()
        printed = _run(
            ["node", "dist/smoke.js"], client,
            SMOOTH_BASE_URL=f"http://{HOST_A}:{port}", SMOOTH_CONNECT_TO=f"127.0.0.1:{port}",
            SMOOTH_EMAIL=world.owner.email, SMOOTH_PASSWORD=PASSWORD,
            SMOOTH_SERVICE=world.service.name, SMOOTH_DAY=day,
        )  # fmt: skip
        outcome = json.loads(printed.strip().splitlines()[-1])
        assert outcome["me"] == world.owner.email
        assert outcome["service"] == str(world.service.public_id)
        assert outcome["slots"] > 1
        assert outcome["rescheduled_to"] != outcome["booked_at"]
        assert outcome["status"] == "CANCELLED"
        assert outcome["spent_refresh_status"] == 401  # a rotated refresh token is spent
        assert outcome["wrong_password_status"] == 401
        connection.set_tenant(world.tenant)
        appointment = Appointment.objects.get(public_id=outcome["appointment"])
        assert appointment.status == "CANCELLED"
        assert appointment.starts_at.isoformat().startswith(outcome["rescheduled_to"][:16])
