"""Periodic jobs of access."""

from __future__ import annotations

from celery import shared_task

from access.masquerade.records import masquerade_log_replay


# The task keeps the name it was scheduled under before access had its own package.
@shared_task(name="core.tasks.replay_masquerade_log", ignore_result=True)
def replay_masquerade_log() -> int:
    """Write the masquerade.log lines that waited for an unwritable file; raises while it still
    is (the next run tries again)."""
    return masquerade_log_replay()
