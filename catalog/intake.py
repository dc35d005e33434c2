"""Intake questions: a service asks them as a JSON Schema (typed fields, required ones, choices
as ``enum``), a booking answers them, and the answers are checked with ``jsonschema`` before the
appointment is written. Pure functions: no database."""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from core.exceptions import DomainError

# Answers are a short form, not a document store.
MAX_ANSWERS_BYTES = 16 * 1024


def intake_schema_problems(schema: Any) -> list[str]:
    """Why ``schema`` cannot serve as a service's intake questions (empty: it can). An empty
    object asks nothing; otherwise an object schema that is valid JSON Schema (2020-12)."""
    if not isinstance(schema, dict):
        return ["Intake questions are a JSON Schema object."]
    if not schema:
        return []
    if schema.get("type") != "object":
        return ['The intake schema must describe an object ("type": "object").']
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as error:
        return [f"Not a valid JSON Schema: {error.message}"]
    return []


def _field(error: Any) -> list[str]:
    """The dotted ``intake.<field>`` names one validation error is about."""
    if error.validator == "required":
        present = error.instance if isinstance(error.instance, dict) else {}
        prefix = ".".join(str(p) for p in error.absolute_path)
        missing = [name for name in error.validator_value if name not in present]
        return [".".join(filter(None, ("intake", prefix, name))) for name in missing]
    if error.validator == "additionalProperties":
        known = set(error.schema.get("properties", {}))
        prefix = ".".join(str(p) for p in error.absolute_path)
        extra = sorted(set(error.instance) - known)
        return [".".join(filter(None, ("intake", prefix, name))) for name in extra]
    path = ".".join(str(p) for p in error.absolute_path)
    return [f"intake.{path}" if path else "intake"]


def intake_validate(*, schema: dict[str, Any], answers: Any) -> dict[str, Any]:
    """``answers`` if they fit ``schema``; else a 400 ``invalid_intake`` naming each field."""
    if not isinstance(answers, dict):
        raise DomainError(
            "Intake answers are a JSON object.",
            code="invalid_intake",
            fields={"intake": ["Expected an object of answers."]},
        )
    if len(repr(answers).encode()) > MAX_ANSWERS_BYTES:
        raise DomainError(
            "The intake answers are too long.",
            code="invalid_intake",
            fields={"intake": [f"At most {MAX_ANSWERS_BYTES // 1024} KiB of answers."]},
        )
    if not schema:
        return answers
    fields: dict[str, list[str]] = {}
    for error in sorted(Draft202012Validator(schema).iter_errors(answers), key=str):
        message = "This question is required." if error.validator == "required" else error.message
        if error.validator == "additionalProperties":
            message = "Not one of this service's questions."
        for name in _field(error):
            fields.setdefault(name, []).append(message)
    if fields:
        first = next(iter(fields))
        raise DomainError(f"{first}: {fields[first][0]}", code="invalid_intake", fields=fields)
    return answers
