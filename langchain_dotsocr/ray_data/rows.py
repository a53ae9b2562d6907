"""Rows of the Ray pipeline: a file's pages as rows, a page's result as a row, and back.

Every row of one dataset has the same keys (:data:`PAGE_ROW`, None where unknown), so blocks
share a schema. A page row carries the page encoded as the loader sends it; with
``text_layer="auto"``, ``layer``: a PDF page's text layer, read where the page is rendered,
beside the render, as the loader reads it (:func:`~langchain_dotsocr.textlayer.layer_to_dict`,
as zlib-compressed JSON: a tenth of its size, and exact); and, when crops or descriptions are
asked, ``page_file``: the page alone in a file (a one-page PDF, or the image file), which the
actor cuts the crops from at the render resolution, as the loader cuts them from the source.
A result row carries the page's result as JSON (its figures, and each element's
``text_source``, included) and never the page's image, its file, its layer or the API key.
"""

from __future__ import annotations

import json
import logging
import re
import zlib
from dataclasses import asdict
from typing import Any

from PIL import Image

from ..crops import Figure
from ..encode import EncodedImage, decode_image
from ..errors import DotsOCRError, PageError, ServerError
from ..figures import cropped_categories
from ..identity import SourceId, content_hash
from ..layout import Element
from ..pages import Geometry, PageDocument, PageInfo, open_pages, select_pages
from ..read import PageResult, Prepared, prepare
from ..read.ink import COARSE, ink_map
from ..settings import DotsOCRSettings

# Every page row has these keys (None where unknown), so rows of one dataset share a schema.
PAGE_ROW: dict[str, Any] = dict.fromkeys(
    (
        "source", "page", "total_pages", "page_width", "page_height", "coordinate_unit",
        "natural_pixels", "image", "image_width", "image_height", "whole", "page_file",
        "digest", "answer", "layer", "error", "error_type",
    )
)
#: What a result row leaves out of its page row: the page's pixels, its file and its text
#: layer (the result holds the text read).
PAGE_ONLY = ("image", "page_file", "layer")
_DATA_URL = re.compile(r"data:[\w/.+-]+;base64,[A-Za-z0-9+/=]*")
_MASK = "**********"
logger = logging.getLogger("langchain_dotsocr")


def render_pages(
    row: dict[str, Any],
    settings: DotsOCRSettings,
    geometry: Geometry,
    answer: str = "",
    *,
    page_files: bool | None = None,
) -> list[dict[str, Any]]:
    """Page rows of one file row (``bytes``, ``path``): the page encoded as the loader sends it.

    ``answer`` is the run's :func:`~langchain_dotsocr.identity.answer_key` (with the file's
    hash it names the Documents as the loader does). ``page_files``: whether each row carries
    its ``page_file`` for the crops (by default, when the settings ask for crops or
    descriptions). A file that cannot be opened gives one row with ``page=-1`` and its error;
    a page that cannot be rendered gives its row with the error.
    """
    if page_files is None:
        page_files = bool(cropped_categories(settings))
    source, data = str(row["path"]), bytes(row["bytes"])
    file = PAGE_ROW | {"source": source, "answer": answer}
    password = settings.password.get_secret_value() if settings.password else None
    try:
        document = open_pages(data, source, password=password)
    except DotsOCRError as exc:
        return [error_row(file | {"page": -1}, exc.located(source, None))]
    file["digest"] = content_hash(data)
    rows = []
    try:
        for index in select_pages(document.total, settings.pages):
            where = file | {"page": index, "total_pages": document.total}
            try:
                rendered = document.render(index, geometry, layer=settings.text_layer == "auto")
                page = prepare(rendered, settings.image_format, settings.jpeg_quality)
            except DotsOCRError as exc:
                rows.append(error_row(where, exc.located(source, index, document.total)))
                continue
            rows.append(file | _page_row(page) | _page_file(document, index, page_files))
    finally:
        document.close()
    return rows


def _page_row(page: Prepared) -> dict[str, Any]:
    info = page.info
    return {
        "source": info.source,
        "page": info.index,
        "total_pages": info.total,
        "page_width": info.width,
        "page_height": info.height,
        "coordinate_unit": info.unit,
        "natural_pixels": info.natural_pixels,
        "image": page.image.url,
        "image_width": page.width,
        "image_height": page.height,
        "whole": page.whole,
        "layer": None if page.layer is None else _packed(page.layer),
        "error": None,
        "error_type": None,
    }


def _packed(layer: Any) -> bytes:
    from ..textlayer import layer_to_dict  # loaded only where a page has a layer

    return zlib.compress(json.dumps(layer_to_dict(layer), ensure_ascii=False).encode())


def _unpacked(data: bytes, image: Image.Image) -> Any:
    """The text layer of a page row, its ink evidence taken from ``image`` (the page sent)."""
    from ..textlayer import layer_from_dict

    return layer_from_dict(json.loads(zlib.decompress(data)), image)


def _page_file(document: PageDocument, index: int, wanted: bool) -> dict[str, Any]:
    if not wanted:
        return {}
    try:
        return {"page_file": document.page_file(index)}
    except DotsOCRError as exc:  # as in the loader, a crop that cannot be cut costs the crop
        logger.warning("%s (its crops are left out)", exc)
        return {}


def crop_source(row: dict[str, Any]) -> tuple[PageDocument, int]:
    """The opened ``page_file`` of a page row and the page's index in it."""
    document = open_pages(bytes(row["page_file"]), row["source"])
    return document, (0 if document.total == 1 else int(row["page"]))


def source_id(row: dict[str, Any]) -> SourceId:
    """The identity of a row's source, as the loader names it (by content when it opened)."""
    answer = row["answer"] or ""
    if row["digest"]:
        return SourceId.of_content(row["digest"], answer)
    return SourceId.of_name(row["source"], answer)


def error_row(
    where: dict[str, Any], error: BaseException, secrets: tuple[str, ...] = ()
) -> dict[str, Any]:
    """``where`` with the error's message (no image data, no ``secrets``) and its type."""
    return where | {"error": _message(error, secrets), "error_type": type(error).__name__}


def _message(error: BaseException, secrets: tuple[str, ...] = ()) -> str:
    text = error.reason if isinstance(error, DotsOCRError) else str(error)
    return _masked(text, secrets)[:2000]


def _masked(text: str, secrets: tuple[str, ...]) -> str:
    """``text`` without ``secrets`` and image data (a problem may quote a server's error)."""
    for secret in secrets:
        text = text.replace(secret, _MASK)
    return _DATA_URL.sub("data:<image>", text)


def prepared_page(row: dict[str, Any]) -> Prepared:
    """The page of a page row as the readers take it: the image sent, its ink (mapped again
    from the image: a map does not travel well as a column) and its text layer, if any (its
    pixel evidence from the same image: the loader's own render for ``image_format="png"``,
    the default; a JPEG's pixels differ from it a little, as the ink map's do)."""
    image = EncodedImage(row["image"], int(row["image_width"]), int(row["image_height"]))
    pixels = decode_image(image)
    layer = _unpacked(bytes(row["layer"]), pixels) if row.get("layer") else None
    return Prepared(page_info(row), image, ink_map(pixels, COARSE), bool(row["whole"]), layer)


def page_info(row: dict[str, Any]) -> PageInfo:
    return PageInfo(
        row["source"],
        int(row["page"]),
        int(row["total_pages"]),
        float(row["page_width"]),
        float(row["page_height"]),
        row["coordinate_unit"],
        int(row["natural_pixels"]),
    )


def result_json(result: PageResult, secrets: tuple[str, ...] = ()) -> str:
    """A page's result as the JSON text of a result row's ``result`` (its problems, and the
    shares of the page that failed as their messages, without ``secrets``)."""
    return json.dumps(
        {
            "elements": [asdict(e) for e in result.elements],
            "text": result.text,
            "extraction": result.extraction,
            "problems": [_masked(p, secrets) for p in result.problems],
            "requests": result.tally.requests,
            "requests_by_server": result.tally.by_server,
            "figures": {str(i): asdict(f) for i, f in result.figures.items()},
            "failures": [
                {"error": _message(e, secrets), "error_type": type(e).__name__}
                for e in result.failures
            ],
        },
        ensure_ascii=False,
    )


def page_result(row: dict[str, Any]) -> PageResult:
    data = json.loads(row["result"])
    result = PageResult(page_info(row))
    result.elements = [Element.from_dict(e) for e in data["elements"]]
    result.text = data["text"]
    result.extraction = data["extraction"]
    result.problems = data["problems"]
    result.figures = {int(i): Figure(**f) for i, f in data.get("figures", {}).items()}
    result.failures = [_error(f) for f in data.get("failures", [])]
    return result


def row_error(row: dict[str, Any]) -> DotsOCRError:
    page = int(row["page"])
    return _error(row).located(row["source"], page if page >= 0 else None, row["total_pages"])


def _error(row: dict[str, Any]) -> DotsOCRError:
    kind = {c.__name__: c for c in (DotsOCRError, PageError, ServerError)}
    return kind.get(str(row["error_type"]), DotsOCRError)(str(row["error"]))


