"""The JSON API: ``/api/search``, ``/api/passages/<id>`` and ``/api/health``.

Parameters are handed to the engine as the strings that arrived; it validates them and
raises :mod:`search.errors` exceptions, which :mod:`web.errors` turns into JSON errors.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from web import get_engine

bp = Blueprint("api", __name__, url_prefix="/api")

SEARCH_PARAMS = ("page", "size", "municipality", "kind", "document", "year_from", "year_to", "sort")


def search_args(args) -> dict[str, str | None]:
    """The engine's keyword arguments from a request's query string (first value of each)."""
    return {name: args.get(name) for name in SEARCH_PARAMS}


@bp.get("/search")
def search() -> Response:
    """Ranked passages with snippets and facets; the body of :meth:`Engine.search`."""
    return jsonify(get_engine().search(request.args.get("q"), **search_args(request.args)))


@bp.get("/passages/<path:pid>")
def passage(pid: str) -> Response:
    """One passage in full, with its neighbours; ``q`` marks the query's terms."""
    return jsonify(get_engine().passage(pid, q=request.args.get("q")))


@bp.get("/health")
def health() -> Response:
    """Passage and document counts of the served index, and when it was built."""
    return jsonify(get_engine().health())
