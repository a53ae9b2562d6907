"""Document metadata that every vector store takes: the keys of each mode, always all of them.

Values are str, int, float or bool; ``bbox`` is a list of four floats and ``pages`` a list of
page indices (:func:`flatten_bbox` makes them scalars). Nothing is ``None``, nested or an
empty list. Every Document of a mode has the same keys, Error Documents included, because
some stores (LanceDB) fix their schema from the first batch and refuse a Document with other
keys.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any, Literal

from langchain_core.documents import Document

Shape = Literal["element", "page", "single"]
Box = tuple[float, float, float, float]

# Decimals kept of page coordinates: a hundredth of a point is far below what the model sees.
DECIMALS = 2

_WHERE = ("source", "page", "page_label", "total_pages")
_PAGE = ("page_width", "page_height", "coordinate_unit")
_READ = ("model", "prompt_mode")
_ERROR = ("error", "error_type")
KEYS: dict[Shape, tuple[str, ...]] = {
    "element": (
        *(_WHERE + _PAGE + _READ),
        "extraction",
        "text_source",
        "category",
        "element_index",
        "element_id",
        "parent_id",
        "bbox",
        "section",
        "section_path",
        "heading_level",
        "text_as_html",
        "caption",
        "footnotes",
        "belongs_to",
        "picture_description",
        "picture_text",
        "image_path",
        "image_base64",
        "image_mime_type",
        "pages",
        "page_boxes",
        *_ERROR,
    ),
    "page": (*(_WHERE + _PAGE + _READ), "extraction", "category", "element_id", *_ERROR),
    "single": (*(_WHERE + _READ), "category", "element_id", *_ERROR),
}


@dataclass(frozen=True)
class Metadata:
    """Everything a Document may say about itself; :meth:`for_shape` picks a mode's keys."""

    source: str
    page: int
    page_label: str
    total_pages: int
    model: str
    prompt_mode: str
    category: str
    element_id: str
    page_width: float = 0.0
    page_height: float = 0.0
    coordinate_unit: str = ""
    extraction: str = ""
    text_source: str = ""
    error: str = ""
    error_type: str = ""
    element_index: int = -1
    parent_id: str = ""
    bbox: Box = (0.0, 0.0, 0.0, 0.0)
    section: str = ""
    section_path: str = ""
    heading_level: int = 0
    text_as_html: str = ""
    caption: str = ""
    footnotes: str = ""
    belongs_to: str = ""
    picture_description: str = ""
    picture_text: str = ""
    image_path: str = ""
    image_base64: str = ""
    image_mime_type: str = ""
    # Every page and box the element spans (a table joined across pages: one per part);
    # empty: its own page and box.
    spans: tuple[tuple[int, Box], ...] = ()

    def for_shape(self, shape: Shape) -> dict[str, Any]:
        """The metadata dict of a Document of ``shape``, coordinates rounded."""
        values = asdict(self)
        values["bbox"] = [round(float(v), DECIMALS) for v in self.bbox]
        values["page_width"] = round(float(self.page_width), DECIMALS)
        values["page_height"] = round(float(self.page_height), DECIMALS)
        spans = self.spans or ((self.page, self.bbox),)
        values["pages"] = [page for page, _ in spans]
        values["page_boxes"] = "" if self.category == "Error" else page_boxes(spans)
        return {key: values[key] for key in KEYS[shape]}


def page_boxes(spans: tuple[tuple[int, Box], ...]) -> str:
    """Pages and boxes as one string: ``"0:72.0,600.0,540.0,760.0;1:72.0,40.0,540.0,300.0"``."""
    return ";".join(
        f"{page}:" + ",".join(str(round(float(v), DECIMALS)) for v in box) for page, box in spans
    )


def flatten_bbox(documents: Iterable[Document]) -> list[Document]:
    """Copies of ``documents`` whose metadata holds scalars only, for vector stores that take
    nothing else.

    The ``bbox`` list is replaced by four float keys ``bbox_x0``, ``bbox_y0``, ``bbox_x1``,
    ``bbox_y1``, and the ``pages`` list by a string of the pages joined by commas (``"3,4"``).
    The Documents keep their ``id``.
    """
    out = []
    for doc in documents:
        meta = dict(doc.metadata)
        box = meta.pop("bbox", None)
        if box is not None:
            meta.update(zip(("bbox_x0", "bbox_y0", "bbox_x1", "bbox_y1"), box, strict=True))
        if isinstance(meta.get("pages"), list):
            meta["pages"] = ",".join(str(p) for p in meta["pages"])
        out.append(Document(page_content=doc.page_content, metadata=meta, id=doc.id))
    return out
