"""Page results to LangChain Documents: one per element, per page, or per source.

The assembly runs as steps over each page's elements in order (:mod:`.furniture` for what is
page furniture, :mod:`.headings` for levels and section paths, :mod:`.captions`,
:mod:`.labels` for page labels, :mod:`.tablejoin` for tables across pages), after
:mod:`.page` gave every element its id and safe text; :mod:`.builder` turns the result into
Documents with :mod:`.metadata`'s keys.
"""

from .builder import DocumentBuilder
from .markdown import PAGE_SEPARATOR, PICTURE_CONTENT
from .metadata import flatten_bbox

__all__ = ["PAGE_SEPARATOR", "PICTURE_CONTENT", "DocumentBuilder", "flatten_bbox"]
