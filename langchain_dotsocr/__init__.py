"""Turn PDFs and scans into LangChain Documents with the dots.ocr layout model on vLLM."""

from .budget import required_context, smart_resize
from .check import ReadCheck, ReadPage, ServerCheck, Verdict, check_server, export_reference
from .chunks import DotsOCRChunker, chunk_boxes, estimate_tokens
from .crops import Crop
from .describe import DESCRIBE_PROMPT
from .documents import PAGE_SEPARATOR, PICTURE_CONTENT, flatten_bbox
from .draw import draw_boxes, draw_page
from .errors import (
    AuthenticationError,
    ContextLengthError,
    DocumentError,
    DotsOCRError,
    ModelNotServedError,
    PageError,
    ServerError,
    ServerUnreachableError,
)
from .loader import DotsOCRLoader
from .parser import DotsOCRParser
from .pipeline import DownscaleWarning, SourceReport
from .region import aread_region, read_region
from .servers import ServerWarning
from .settings import DotsOCROptions, DotsOCRSettings

__all__ = [
    "DESCRIBE_PROMPT",
    "PAGE_SEPARATOR",
    "PICTURE_CONTENT",
    "AuthenticationError",
    "ContextLengthError",
    "Crop",
    "DocumentError",
    "DotsOCRChunker",
    "DotsOCRError",
    "DotsOCRLoader",
    "DotsOCROptions",
    "DotsOCRParser",
    "DotsOCRSettings",
    "DownscaleWarning",
    "ModelNotServedError",
    "PageError",
    "ReadCheck",
    "ReadPage",
    "ServerCheck",
    "ServerError",
    "ServerUnreachableError",
    "ServerWarning",
    "SourceReport",
    "Verdict",
    "aread_region",
    "check_server",
    "chunk_boxes",
    "draw_boxes",
    "draw_page",
    "estimate_tokens",
    "export_reference",
    "flatten_bbox",
    "read_region",
    "required_context",
    "smart_resize",
]
