"""Domain errors. They carry a machine-readable code and a message, and know nothing of HTTP."""

from __future__ import annotations


class RenkeiError(Exception):
    """Base class of every error renkei reports to a user."""

    code = "error"

    def __init__(self, message: str, *, param: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param


class InvalidParameter(RenkeiError):
    """A search parameter is missing, malformed or out of range."""

    code = "invalid_parameter"


class QueryTooLong(InvalidParameter):
    """The query text exceeds the accepted length."""

    code = "query_too_long"


class NotFound(RenkeiError):
    """A passage or document id that the index does not hold."""

    code = "not_found"


class IndexMissing(RenkeiError):
    """No index has been built at the given location."""

    code = "index_missing"


class IndexBusy(RenkeiError):
    """Another rebuild holds the index lock."""

    code = "index_busy"


class DocumentError(RenkeiError):
    """A source file could not be decoded or parsed."""

    code = "document_error"
