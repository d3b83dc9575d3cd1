"""The JSON API: ``/api/search``, ``/api/passages/<id>`` and ``/api/health``.

Parameters are handed to the engine as the strings that arrived; it validates them and
raises :mod:`search.errors` exceptions, which :mod:`web.errors` turns into JSON errors.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from search.errors import InvalidParameter
from web import get_engine

bp = Blueprint("api", __name__, url_prefix="/api")

MAX_NEIGHBOURS = 10
SEARCH_PARAMS = ("page", "size", "municipality", "kind", "document", "year_from", "year_to", "sort")


def search_args(args) -> dict[str, str | None]:
    """The engine's keyword arguments from a request's query string (first value of each)."""
    return {name: args.get(name) for name in SEARCH_PARAMS}


@bp.get("/search")
def search() -> Response:
    """Ranked passages with snippets and facets; the body of :meth:`Engine.search`."""
    return jsonify(get_engine().search(request.args.get("q"), **search_args(request.args)))


def neighbours_arg(value: str | None, default: int = 2) -> int:
    """The ``neighbours`` parameter: passages shown on each side, 0 to 10.

    >>> neighbours_arg(None), neighbours_arg("0"), neighbours_arg(" 5 ")
    (2, 0, 5)
    """
    if value is None or value == "":
        return default
    try:
        number = int(value.strip())
    except ValueError:
        raise InvalidParameter(f"neighbours must be a whole number, not {value[:40]!r}",
                               param="neighbours") from None
    if not 0 <= number <= MAX_NEIGHBOURS:
        raise InvalidParameter(f"neighbours must be between 0 and {MAX_NEIGHBOURS}, not {number}",
                               param="neighbours")
    return number


@bp.get("/passages/<path:pid>")
def passage(pid: str) -> Response:
    """One passage in full, with ``neighbours`` passages each side; ``q`` marks the query's terms."""
    neighbours = neighbours_arg(request.args.get("neighbours"))
    return jsonify(get_engine().passage(pid, q=request.args.get("q"), neighbours=neighbours))


@bp.get("/health")
def health() -> Response:
    """Passage and document counts of the served index, and when it was built."""
    return jsonify(get_engine().health())
