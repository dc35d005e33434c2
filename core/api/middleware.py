"""The request guard: right after tenant routing (which reads only the validated Host), it
refuses as JSON what no view could use, before any view runs or any query is sent.

* Text PostgreSQL cannot store (the NUL character, unpaired UTF-16 surrogates) anywhere in the
  path, the query string, a header or a JSON or form body: 400 ``unstorable_text``, naming where.
* A body larger than ``DATA_UPLOAD_MAX_MEMORY_SIZE``: 413 ``request_too_large``; a multipart
  body (which may carry a file) may be larger, up to ``multipart_limit()`` (the largest image
  upload, ``MEDIA_IMAGE_MAX_BYTES``, plus ``DATA_UPLOAD_MAX_MEMORY_SIZE`` for the other parts),
  judged from its ``Content-Length`` before a byte of it is read, so no one can make the server
  spool an unbounded upload to disk before authentication. A malformed ``Content-Length``: 400.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import HttpRequest, HttpResponse, QueryDict
from django.http.multipartparser import MultiPartParserError

from core.api.errors import json_error, too_large_message

UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
UNSTORABLE_MESSAGE = "Text may not contain the NUL character (\\u0000) or unpaired surrogates."


def _json_fields(data: Any, prefix: str = "") -> Iterator[str]:
    """The dotted names of the values (or keys) in ``data`` that PostgreSQL cannot store."""
    if isinstance(data, str):
        if UNSTORABLE.search(data):
            yield prefix or "body"
    elif isinstance(data, dict):
        for key, value in data.items():
            name = UNSTORABLE.sub("?", f"{prefix}.{key}" if prefix else str(key))
            if UNSTORABLE.search(str(key)):
                yield name
            yield from _json_fields(value, name)
    elif isinstance(data, list):
        for index, item in enumerate(data):
            yield from _json_fields(item, f"{prefix}.{index}" if prefix else str(index))


def _form_fields(form: QueryDict) -> Iterator[str]:
    for key, values in form.lists():
        if UNSTORABLE.search(key) or any(UNSTORABLE.search(value) for value in values):
            yield UNSTORABLE.sub("?", key)


def _header_fields(request: HttpRequest) -> Iterator[str]:
    for name, value in request.headers.items():
        if isinstance(value, str) and UNSTORABLE.search(value):
            yield name


def _body_fields(request: HttpRequest) -> Iterator[str]:
    content_type = request.content_type or ""
    if content_type == "multipart/form-data":
        if request.method == "POST":  # Django parses (and caches for DRF) POST forms only
            yield from _form_fields(request.POST)
            for name, uploads in request.FILES.lists():
                upload = uploads[-1]  # the one ``FILES[name]`` gives, as before
                if UNSTORABLE.search(name) or UNSTORABLE.search(upload.name or ""):
                    yield UNSTORABLE.sub("?", name)
    elif content_type == "application/x-www-form-urlencoded":
        yield from _form_fields(QueryDict(request.body, encoding=request.encoding))
    elif (content_type == "application/json" or content_type.endswith("+json")) and request.body:
        try:
            data = json.loads(request.body)
        except ValueError:
            return  # not JSON: the view's parser answers 400 parse_error
        yield from _json_fields(data)


def _declared_length(request: HttpRequest) -> int:
    raw = request.META.get("CONTENT_LENGTH") or "0"
    length = int(raw)  # ValueError for garbage, handled by the caller
    if length < 0:
        raise ValueError(raw)
    return length


class RequestGuardMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        refusal = self.refusal(request)
        return refusal if refusal is not None else self.get_response(request)

    def refusal(self, request: HttpRequest) -> HttpResponse | None:
        try:
            length = _declared_length(request)
        except ValueError:
            return json_error(400, "bad_request", "The Content-Length header is not a number.")
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if request.content_type == "multipart/form-data":
            if length > multipart_limit():
                return json_error(
                    413, "request_too_large",
                    f"A multipart body is at most {multipart_limit()} bytes.",
                )  # fmt: skip
        elif limit is not None and length > limit:
            return too_large()
        if UNSTORABLE.search(request.path_info):
            return json_error(400, "unstorable_text", UNSTORABLE_MESSAGE, path=[UNSTORABLE_MESSAGE])
        try:
            where = [
                *_form_fields(request.GET),
                *_header_fields(request),
                *_body_fields(request),
            ]
        except RequestDataTooBig:
            return too_large()
        except MultiPartParserError:
            return json_error(400, "parse_error", "The multipart body is malformed.")
        except RecursionError:
            return json_error(400, "parse_error", "The body is nested too deeply.")
        except SuspiciousOperation:
            return json_error(400, "bad_request", "The request is malformed.")
        if where:
            fields = {name: [UNSTORABLE_MESSAGE] for name in where}
            return json_error(400, "unstorable_text", UNSTORABLE_MESSAGE, **fields)
        return None


def multipart_limit() -> int:
    return settings.MEDIA_IMAGE_MAX_BYTES + (settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0)


def too_large() -> HttpResponse:
    return json_error(413, "request_too_large", too_large_message())
