"""The JSON log lines' format. Settings' LOGGING loads it before Django's models are ready, so it
imports nothing of the project's."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from pythonjsonlogger.json import JsonFormatter


class UTCJsonFormatter(JsonFormatter):
    """JSON lines whose ``timestamp`` is UTC ISO-8601 with a ``Z``: the moment the event
    happened when the line mirrors an audit row, else the moment of logging."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("reserved_attrs", [*STD_LOG_RECORD_ATTRS])
        super().__init__(*args, **kwargs)

    def add_fields(self, log_record: dict, record: logging.LogRecord, message_dict: dict) -> None:
        super().add_fields(log_record, record, message_dict)
        log_record.setdefault("timestamp", utc_timestamp(record.created))
        log_record["level"] = record.levelname
        log_record["logger"] = record.name


STD_LOG_RECORD_ATTRS = (
    "args", "asctime", "created", "exc_info", "exc_text", "filename", "funcName", "levelname",
    "levelno", "lineno", "module", "msecs", "msg", "name", "pathname", "process", "processName",
    "relativeCreated", "stack_info", "thread", "threadName", "taskName",
)  # fmt: skip


def utc_timestamp(epoch_seconds: float | None = None) -> str:
    moment = datetime.fromtimestamp(epoch_seconds, UTC) if epoch_seconds else datetime.now(UTC)
    return iso_utc(moment)


def iso_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
