"""Reading pages: one request, asked again, in parts, or as plain text (see :mod:`.reader`)."""

from ..errors import FATAL
from .page import PageResult, Prepared, prepare
from .reader import Reader

__all__ = ["FATAL", "PageResult", "Prepared", "Reader", "prepare"]
