"""A page's text layer as plain data, and back: for a layer that travels (a Ray row).

The data holds the verdict, the page's size and every character the verdict lets through,
column by column (one string of the characters, their boxes flat, their fonts and fills by
index): compact, and exact, since JSON writes a float so that it reads back the same. The
pixels are not in it: :func:`layer_from_dict` takes the page as rendered again (the image the
model is sent, for the ink evidence of :meth:`~.layer.PageLayer.share_in`), and marks the
glyphs on it as :func:`~.layer.read_layer` does.
"""

from __future__ import annotations

from typing import Any

from PIL import Image

from .chars import Char
from .ink import Ink
from .layer import PageLayer, cover
from .trust import Trust

#: What :func:`layer_from_dict` reads; data of another version is refused, not misread.
VERSION = 1
_FLAGS = ("unmapped", "invisible", "over_image", "under_image", "space_before")  # then the turn


def layer_to_dict(layer: PageLayer) -> dict[str, Any]:
    """``layer`` as data that JSON (or Arrow) takes; :func:`layer_from_dict` reads it back."""
    fonts: dict[str, int] = {}
    fills: dict[tuple[int, int, int], int] = {}
    boxes: list[float] = []
    font, fill, flags = [], [], []
    for c in layer.chars:
        boxes.extend(c.box)
        font.append(fonts.setdefault(c.font, len(fonts)))
        fill.append(fills.setdefault(c.fill, len(fills)))
        flags.append(
            sum(1 << k for k, name in enumerate(_FLAGS) if getattr(c, name))
            | c.turn << len(_FLAGS)
        )
    return {
        "version": VERSION,
        "trust": {"level": layer.trust.level, "reason": layer.trust.reason,
                  "chars": layer.trust.chars},
        "size": list(layer.size),
        "text": "".join(c.text for c in layer.chars),
        "boxes": boxes,
        "fonts": list(fonts),
        "font": font,
        "fills": [list(f) for f in fills],
        "fill": fill,
        "flags": flags,
        "painted": [list(b) for b in layer.painted],
    }


def layer_from_dict(data: dict[str, Any], image: Image.Image | None = None) -> PageLayer:
    """The layer of :func:`layer_to_dict`'s ``data``; ``image``: the page as rendered, for the
    ink evidence (without it, as :func:`~.layer.read_layer` without one).

    Raises:
        ValueError: data of another version, or whose columns do not agree.
    """
    if data.get("version") != VERSION:
        raise ValueError(f"text layer data of version {data.get('version')!r}, not {VERSION}")
    text, boxes = data["text"], data["boxes"]
    columns = (data["font"], data["fill"], data["flags"])
    if len(boxes) != 4 * len(text) or any(len(c) != len(text) for c in columns):
        raise ValueError("text layer data whose columns do not agree")
    fonts, fills = data["fonts"], [tuple(f) for f in data["fills"]]
    chars = tuple(
        Char(
            text=ch,
            box=(boxes[4 * i], boxes[4 * i + 1], boxes[4 * i + 2], boxes[4 * i + 3]),
            font=fonts[font],
            fill=fills[fill],
            **{name: bool(flag >> k & 1) for k, name in enumerate(_FLAGS)},
            turn=flag >> len(_FLAGS) & 7,
        )
        for i, (ch, font, fill, flag) in enumerate(zip(text, *columns, strict=True))
    )
    trust = data["trust"]
    size = (float(data["size"][0]), float(data["size"][1]))
    ink = Ink.of(image, size) if image is not None else None
    if ink is not None:
        cover(ink, trust["level"], chars)
    painted = tuple((b[0], b[1], b[2], b[3]) for b in data.get("painted", []))
    level = Trust(trust["level"], trust["reason"], int(trust["chars"]))
    return PageLayer(level, size, chars, ink, painted)
