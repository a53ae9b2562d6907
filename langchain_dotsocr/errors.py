"""Exceptions raised by langchain-dotsocr.

Every error that concerns a document carries the ``source`` and, where it is about one page,
the 0-based ``page`` index, and says both in its message.
"""

from __future__ import annotations

__all__ = [
    "AuthenticationError",
    "ContextLengthError",
    "DocumentError",
    "DotsOCRError",
    "ModelNotServedError",
    "PageError",
    "ServerError",
    "ServerUnreachableError",
]


def where(source: str | None, page: int | None, total_pages: int | None = None) -> str:
    """Say where an error happened: ``report.pdf, page 3 of 10 (page=2)``."""
    parts = []
    if source:
        parts.append(source)
    if page is not None:
        of = f" of {total_pages}" if total_pages else ""
        parts.append(f"page {page + 1}{of} (page={page})")
    return ", ".join(parts)


class DotsOCRError(Exception):
    """Base class of every error this package raises."""

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        page: int | None = None,
        total_pages: int | None = None,
    ):
        self.reason = message
        self.source = source
        self.page = page
        self.total_pages = total_pages
        prefix = where(source, page, total_pages)
        super().__init__(f"{prefix}: {message}" if prefix else message)

    def located(
        self, source: str | None, page: int | None, total_pages: int | None = None
    ) -> DotsOCRError:
        """Return a copy of this error that names ``source`` and ``page``."""
        err = type(self).__new__(type(self))
        err.__dict__.update(self.__dict__)
        DotsOCRError.__init__(
            err,
            self.reason,
            source=source or self.source,
            page=self.page if page is None else page,
            total_pages=total_pages or self.total_pages,
        )
        err.__cause__ = self.__cause__
        return err


class DocumentError(DotsOCRError):
    """A source cannot be read: not a supported format, corrupt, empty or locked."""


class PageError(DotsOCRError):
    """One page of a source cannot be rendered or parsed."""


class ServerError(DotsOCRError):
    """The server refused or failed a request."""


class ServerUnreachableError(ServerError):
    """No connection to the server could be made."""


class ModelNotServedError(ServerError):
    """The requested model id is not among the ids the server serves."""


class AuthenticationError(ServerError):
    """The server refused the API key (HTTP 401 or 403)."""


class ContextLengthError(ServerError):
    """A page does not fit in the server's context (``--max-model-len``)."""


# Errors no other way of reading a page can help: every further request would fail the same way.
FATAL = (AuthenticationError, ServerUnreachableError, ModelNotServedError)
