"""System checks: the security settings, and what a server needs before it may start."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.checks import Error, Warning, register, run_checks
from django.core.exceptions import ImproperlyConfigured


@register("security")
def hijack_check_names_agree(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """The seed calls django-hijack's setting HIJACK_AUTHORIZATION_CHECK (hijack 2); hijack 3
    reads HIJACK_PERMISSION_CHECK. Either may be set; two different answers are an error."""
    old = getattr(settings, "HIJACK_AUTHORIZATION_CHECK", None)
    new = getattr(settings, "HIJACK_PERMISSION_CHECK", None)
    if old and new and old != new:
        return [
            Error(
                f"HIJACK_AUTHORIZATION_CHECK ({old}) and HIJACK_PERMISSION_CHECK ({new}) differ.",
                hint="Point both at access.masquerade.rules.may_masquerade, or drop the old name.",
                id="core.E001",
            )
        ]
    return []


@register("security", deploy=True)
def proxy_count_matches_the_proxy(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    """Trusting a proxy's X-Forwarded-Proto says a proxy is there; with TRUSTED_PROXY_COUNT 0
    every client then has the proxy's address, and one client's sign-in failures throttle all."""
    if settings.SECURE_PROXY_SSL_HEADER and settings.TRUSTED_PROXY_COUNT == 0:
        return [
            Warning(
                "SECURE_PROXY_SSL_HEADER trusts a proxy, but TRUSTED_PROXY_COUNT is 0: every "
                "client is seen with the proxy's address and shares one sign-in budget.",
                hint="Set TRUSTED_PROXY_COUNT to the number of proxies that append to "
                "X-Forwarded-For in front of the app.",
                id="core.W011",
            )
        ]
    return []


# Backends that accept a message and deliver it to nobody.
UNDELIVERED_EMAIL_BACKENDS = {
    "django.core.mail.backends.console.EmailBackend",
    "django.core.mail.backends.locmem.EmailBackend",
    "django.core.mail.backends.dummy.EmailBackend",
    "django.core.mail.backends.filebased.EmailBackend",
}


@register("notifications", deploy=True)
def email_is_delivered(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    """Without ``EMAIL_URL`` e-mail goes to the console: every reminder and notice is marked
    sent and reaches no one."""
    if settings.EMAIL_BACKEND in UNDELIVERED_EMAIL_BACKENDS:
        return [
            Warning(
                f"EMAIL_BACKEND is {settings.EMAIL_BACKEND}: e-mails are marked sent and "
                "reach no one.",
                hint="Set EMAIL_URL, e.g. smtp+tls://user:password@smtp.example.com:587.",
                id="core.W012",
            )
        ]
    return []


# Checks a server must pass before it serves a request (config/wsgi.py, config/asgi.py).
STARTUP = "startup"


def _log_files() -> list[Path]:
    """Every file the process appends logs to: the logging handlers' files and masquerade.log."""
    handlers = settings.LOGGING.get("handlers", {}).values()
    files = [Path(h["filename"]) for h in handlers if h.get("filename")]
    return [*files, Path(settings.MASQUERADE_LOG_FILE)]


def _unwritable(directory: Path, files: list[Path]) -> str | None:
    """Why logs cannot be written into ``directory``, or None. It tries for real (a temporary
    file, then each log file opened for appending), because permission bits say nothing for
    root and nothing about read-only file systems."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=directory):
            pass
        for path in files:
            with path.open("a", encoding="utf-8"):
                pass
    except OSError as error:
        return error.strerror or str(error)
    return None


@register("files", STARTUP)
def log_directory_is_writable(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """The audit logs must be writable: a process that cannot write them would lose the security
    trail (and its logging set-up fails with a traceback that names neither directory nor fix)."""
    by_directory: dict[Path, list[Path]] = {}
    for path in _log_files():
        by_directory.setdefault(path.parent, []).append(path)
    errors = []
    for directory, files in by_directory.items():
        if (reason := _unwritable(directory, files)) is not None:
            errors.append(
                Error(
                    f"The log directory {directory} is not writable ({reason}).",
                    hint=(
                        f"Create it and give the user the server runs as write access (mkdir -p "
                        f"{directory} && chown <user> {directory}), or point LOG_DIR at a "
                        "writable directory."
                    ),
                    id="core.E010",
                )
            )
    return errors


def refuse_to_start_on_errors() -> None:
    """Raise ImproperlyConfigured with every failing start-up check's message and hint."""
    problems = [m for m in run_checks(tags=[STARTUP]) if m.is_serious()]
    if problems:
        raise ImproperlyConfigured(
            "\n".join(f"({p.id}) {p.msg}\n\tHINT: {p.hint}" for p in problems)
        )
