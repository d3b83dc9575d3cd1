"""Mapping errors to HTTP: one JSON error shape for the API, an error page for people.

Every error under ``/api`` is ``{"ok": false, "error": {"status", "code", "message"}}``
(plus ``"param"`` when one request parameter is to blame). Library errors
(:mod:`search.errors`) know nothing of HTTP; their status is chosen here.
"""

from __future__ import annotations

import logging
import re

from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from search.errors import RenkeiError

log = logging.getLogger("renkei.web")

# Library error code -> HTTP status. A query over the length limit is a 400 like any other
# invalid parameter: it arrives in the URL, so 413 (request content too large) would mislead.
STATUS_BY_CODE = {
    "invalid_parameter": 400,
    "query_too_long": 400,
    "not_found": 404,
    "index_missing": 503,
    "index_busy": 503,
}
TITLES_JA = {
    400: "リクエストが正しくありません",
    404: "見つかりません",
    405: "このメソッドは使えません",
    500: "サーバーの内部エラー",
    503: "検索を利用できません",
}


def wants_json() -> bool:
    """Whether the current request is an API call, answered in JSON."""
    path = request.path
    return path == "/api" or path.startswith("/api/")


def error_body(status: int, code: str, message: str, param: str | None = None) -> dict:
    """The JSON body of an API error."""
    error: dict = {"status": status, "code": code, "message": message}
    if param:
        error["param"] = param
    return {"ok": False, "error": error}


def json_error(status: int, code: str, message: str, param: str | None = None) -> Response:
    """A JSON error response with ``status``."""
    response = jsonify(error_body(status, code, message, param))
    response.status_code = status
    return response


def status_of(exc: RenkeiError) -> int:
    return STATUS_BY_CODE.get(exc.code, 500)


def _snake(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def _page(status: int, message: str):
    title = TITLES_JA.get(status, "エラー")
    return render_template("error.html", status=status, title=title, message=message), status


def handle_renkei_error(exc: RenkeiError):
    status = status_of(exc)
    if status >= 500:
        log.error("%s: %s", exc.code, exc.message)
    if wants_json():
        return json_error(status, exc.code, exc.message, exc.param)
    return _page(status, exc.message)


def handle_http_exception(exc: HTTPException):
    status = exc.code or 500
    code = _snake(exc.name or "error")
    message = exc.description or exc.name or "error"
    if wants_json():
        if status == 404:
            message = "no such endpoint; the API has /api/search, /api/passages/<id> and /api/health"
        response = json_error(status, code, message)
    else:
        body, _ = _page(status, message)
        response = Response(body, status=status, mimetype="text/html")
    for name, value in exc.get_headers():
        if name.lower() != "content-type":  # e.g. Allow on 405
            response.headers[name] = value
    return response


def handle_unexpected(exc: Exception):
    if isinstance(exc, HTTPException):  # pragma: no cover - routed above by Flask
        return handle_http_exception(exc)
    log.exception("unexpected error on %s %s", request.method, request.path)
    message = "an unexpected error occurred; it has been logged"
    if wants_json():
        return json_error(500, "internal_error", message)
    return _page(500, message)


def register(app: Flask) -> None:
    """Install the error handlers on ``app``."""
    app.register_error_handler(RenkeiError, handle_renkei_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected)
