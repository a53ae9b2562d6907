# ruff: noqa: RUF001, RUF002 (Cyrillic, Chinese and maths on the pages, on purpose)
"""Draw the reference pages of ``dotsocr check --read`` and write their truth.

    apt-get install fonts-dejavu-core fonts-dejavu-extra fonts-wqy-microhei
    python tools/make_reference_pages.py            # rewrites langchain_dotsocr/check/reference/
    python tools/make_reference_pages.py OUT_DIR    # or writes them elsewhere

Every page is drawn here, cell by cell, so its truth is exact: each cell's box is the ink of
what was drawn for it (padded by 2 px), its text what was drawn. Pages are drawn at 200 dpi
(the loader's default) and their sizes are multiples of 28 within the model's pixel bounds,
so the loader sends them unchanged and a correct server answers boxes in the PNG's pixels.
Fonts are read from the Debian packages above (see reference/README.md for their licences);
the committed PNGs need no font at run time.
"""

from __future__ import annotations

import json
import math
import random
import sys
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

OUT = Path(__file__).resolve().parent.parent / "langchain_dotsocr" / "check" / "reference"
FONTS = Path("/usr/share/fonts/truetype")
SANS = FONTS / "dejavu" / "DejaVuSans.ttf"
SANS_BOLD = FONTS / "dejavu" / "DejaVuSans-Bold.ttf"
SERIF = FONTS / "dejavu" / "DejaVuSerif.ttf"
SERIF_ITALIC = FONTS / "dejavu" / "DejaVuSerif-Italic.ttf"
CJK = FONTS / "wqy" / "wqy-microhei.ttc"
PAD = 2
MARGIN = 84
INK = (20, 20, 20)


def font(path: Path, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(path), size)


@dataclass
class Page:
    """A white page, a cursor going down it, and the cells drawn so far."""

    name: str
    width: int
    height: int
    image: Image.Image = field(init=False)
    draw: ImageDraw.ImageDraw = field(init=False)
    cells: list[dict[str, object]] = field(default_factory=list)
    y: int = MARGIN

    def __post_init__(self) -> None:
        assert self.width % 28 == 0 and self.height % 28 == 0, self.name
        self.image = Image.new("RGB", (self.width, self.height), "white")
        self.draw = ImageDraw.Draw(self.image)

    def cell(self, category: str, box: tuple[float, ...], text: str | None) -> None:
        x0, y0, x1, y1 = box
        bbox = [
            max(0, math.floor(x0) - PAD),
            max(0, math.floor(y0) - PAD),
            min(self.width, math.ceil(x1) + PAD),
            min(self.height, math.ceil(y1) + PAD),
        ]
        entry: dict[str, object] = {"bbox": bbox, "category": category}
        if text is not None:
            entry["text"] = text
        self.cells.append(entry)

    def lines(
        self, lines: list[str], face: ImageFont.FreeTypeFont, x: int, y: int, leading: float
    ) -> tuple[float, float, float, float]:
        """Draw lines from (x, y); return the union of their ink boxes."""
        box = [math.inf, math.inf, -math.inf, -math.inf]
        step = round(face.size * leading)
        for i, line in enumerate(lines):
            at = (x, y + i * step)
            self.draw.text(at, line, font=face, fill=INK)
            x0, y0, x1, y1 = self.draw.textbbox(at, line, font=face)
            box = [min(box[0], x0), min(box[1], y0), max(box[2], x1), max(box[3], y1)]
        return (box[0], box[1], box[2], box[3])

    def block(
        self,
        category: str,
        text: str,
        face: ImageFont.FreeTypeFont,
        *,
        x: int = MARGIN,
        width: int | None = None,
        gap: int = 22,
        leading: float = 1.35,
        truth: str | None = None,
        cjk: bool = False,
    ) -> None:
        """A wrapped block of text as one cell; ``truth`` overrides the cell text."""
        width = width if width is not None else self.width - x - MARGIN
        wrapped = wrap_chars(text, face, width) if cjk else wrap(text, face, width)
        box = self.lines(wrapped, face, x, self.y, leading)
        self.cell(category, box, truth if truth is not None else text)
        self.y = math.ceil(box[3]) + gap

    def fixed(self, category: str, text: str, face: ImageFont.FreeTypeFont, x: int, y: int) -> None:
        """One line at a fixed place (headers, footers), the cursor untouched."""
        self.cell(category, self.lines([text], face, x, y, 1.0), text)


def wrap(text: str, face: ImageFont.FreeTypeFont, width: int) -> list[str]:
    lines: list[str] = []
    line = ""
    for word in text.split():
        trial = f"{line} {word}".strip()
        if line and face.getlength(trial) > width:
            lines.append(line)
            line = word
        else:
            line = trial
    return [*lines, line] if line else lines


def wrap_chars(text: str, face: ImageFont.FreeTypeFont, width: int) -> list[str]:
    """Chinese wraps between any two characters."""
    lines: list[str] = []
    line = ""
    for char in text:
        if line and face.getlength(line + char) > width:
            lines.append(line)
            line = char.lstrip()
        else:
            line += char
    return [*lines, line] if line else lines


# -- the pages -------------------------------------------------------------------------------


def text_page() -> Page:
    page = Page("text", 1008, 1316)
    small, body = font(SANS, 20), font(SERIF, 25)
    page.fixed("Page-header", "Harbour Logistics Ltd. | Operations memo 14/2025", small, MARGIN, 40)
    page.y = 104
    page.block("Title", "Winter Schedule for the Eastern Terminal", font(SANS_BOLD, 40), gap=30)
    page.block(
        "Text",
        "From the first Monday of December the eastern terminal changes to the winter "
        "schedule. Ferries leave every forty minutes between six in the morning and ten at "
        "night, and the freight desk closes one hour earlier than in summer.",
        body,
    )
    page.block("Section-header", "1. What changes for drivers", font(SANS_BOLD, 30), gap=18)
    items = [
        "1. Book freight slots at least twelve hours ahead through the booking desk.",
        "2. Trucks longer than sixteen metres board only on the even-hour departures.",
        "3. Hazardous goods need a signed declaration at the gate, as before.",
    ]
    for item in items:
        page.block("List-item", item, body, x=MARGIN + 24, gap=12)
    page.y += 16
    page.block("Section-header", "2. Contacts", font(SANS_BOLD, 30), gap=18)
    page.block(
        "Text",
        "Questions about bookings go to the freight desk on extension 4410. Gate staff can "
        "be reached on channel 12 of the harbour radio at any hour.",
        body,
    )
    page.y = page.height - 150
    page.block(
        "Footnote",
        "* Departure times may change in storms; notices are posted at gate B.",
        font(SERIF, 20),
        x=MARGIN,
    )
    page.fixed("Page-footer", "Page 1 of 1", small, page.width // 2 - 55, page.height - 70)
    return page


TABLE_HEAD = ["Region", "Q1", "Q2", "Q3", "Q4", "Total"]
TABLE_ROWS = [
    ["North", "12.4", "13.1", "14.0", "15.2", "54.7"],
    ["South", "9.8", "10.2", "11.5", "11.9", "43.4"],
    ["East", "7.1", "7.6", "8.3", "9.0", "32.0"],
    ["West", "10.5", "10.9", "10.7", "11.8", "43.9"],
    ["Islands", "3.2", "3.0", "3.9", "4.4", "14.5"],
]


def table_page() -> Page:
    page = Page("table", 1316, 924)
    body, cell_face, bold = font(SERIF, 24), font(SANS, 22), font(SANS_BOLD, 22)
    page.y = 64
    page.block("Section-header", "3. Revenue by region", font(SANS_BOLD, 30), gap=16)
    page.block(
        "Text",
        "Revenue rose in every region but the islands, where the second quarter fell back "
        "after the ferry strike.",
        body,
        gap=24,
    )
    page.block("Caption", "Table 2: Revenue by region and quarter (million EUR)", body, gap=14)
    widths, row_h = [220, 150, 150, 150, 150, 170], 46
    x0, y0 = MARGIN, page.y
    xs = [x0]
    for w in widths:
        xs.append(xs[-1] + w)
    rows = 2 + len(TABLE_ROWS)
    ys = [y0 + i * row_h for i in range(rows + 1)]
    d = page.draw
    line = {"fill": INK, "width": 2}
    for y in (ys[0], ys[2], ys[-1]):
        d.line((xs[0], y, xs[-1], y), **line)
    for y in ys[3:-1]:
        d.line((xs[0], y, xs[-1], y), fill=(120, 120, 120), width=1)
    d.line((xs[1], ys[1], xs[5], ys[1]), **line)  # under "Quarter" only
    for i, x in enumerate(xs):
        top = ys[1] if 2 <= i <= 4 else ys[0]  # the merged cells have no inner rules
        d.line((x, top, x, ys[-1]), **line)

    def put(text: str, left: int, right: int, top: int, bottom: int, face: object) -> None:
        assert isinstance(face, ImageFont.FreeTypeFont)
        w = face.getlength(text)
        d.text(((left + right - w) / 2, (top + bottom) / 2), text, font=face, fill=INK, anchor="lm")

    put("Region", xs[0], xs[1], ys[0], ys[2], bold)  # rowspan 2
    put("Quarter", xs[1], xs[5], ys[0], ys[1], bold)  # colspan 4
    put("Total", xs[5], xs[6], ys[0], ys[2], bold)  # rowspan 2
    for k, q in enumerate(TABLE_HEAD[1:5]):
        put(q, xs[1 + k], xs[2 + k], ys[1], ys[2], bold)
    for r, row in enumerate(TABLE_ROWS):
        for c, text in enumerate(row):
            put(text, xs[c], xs[c + 1], ys[2 + r], ys[3 + r], cell_face)
    head = (
        '<thead><tr><th rowspan="2">Region</th><th colspan="4">Quarter</th>'
        '<th rowspan="2">Total</th></tr><tr>'
        + "".join(f"<th>{q}</th>" for q in TABLE_HEAD[1:5])
        + "</tr></thead>"
    )
    body_html = "".join(
        "<tr>" + "".join(f"<td>{v}</td>" for v in row) + "</tr>" for row in TABLE_ROWS
    )
    html = f"<table>{head}<tbody>{body_html}</tbody></table>"
    page.cell("Table", (xs[0] - 1, ys[0] - 1, xs[-1] + 1, ys[-1] + 1), html)
    page.y = ys[-1] + 36
    # A small bar chart of the totals beside a note: a Picture has no text.
    cx0, cy0, cx1, cy1 = MARGIN, page.y, MARGIN + 520, page.y + 150
    d.line((cx0, cy1, cx1, cy1), fill=INK, width=2)
    d.line((cx0, cy0, cx0, cy1), fill=INK, width=2)
    for i, row in enumerate(TABLE_ROWS):
        h = float(row[-1]) / 60 * 140
        left = cx0 + 30 + i * 95
        d.rectangle((left, cy1 - h, left + 60, cy1 - 1), fill=(90, 110, 160))
    page.cell("Picture", (cx0 - 1, cy0, cx1, cy1 + 1), None)
    page.y = cy1 + 16
    page.block("Caption", "Figure 3: Total revenue by region", body, width=520)
    page.y = cy0 + 10
    page.block(
        "Text",
        "The totals include the re-invoiced transit fees of the third quarter, which the "
        "first edition of this report left out.",
        body,
        x=MARGIN + 580,
    )
    return page


def formula_page() -> Page:
    page = Page("formula", 1008, 1120)
    body = font(SERIF, 25)
    page.y = 90
    page.block("Title", "Two Results Used in the Load Model", font(SANS_BOLD, 38), gap=30)
    page.block(
        "Text",
        "The crane schedule solves a quadratic in the waiting time. Its two roots give the "
        "earliest and the latest slot:",
        body,
    )
    page.y += 10
    formula_quadratic(page)
    page.y += 26
    page.block(
        "Text",
        "Summing the loads of the first n berths, each one tonne heavier than the one "
        "before, gives the closed form below.",
        body,
    )
    page.y += 10
    formula_sum(page)
    page.y += 26
    page.block(
        "Text",
        "Both results hold for every whole number of berths and are checked by the nightly "
        "test run.",
        body,
    )
    return page


def formula_quadratic(page: Page) -> None:
    """x = (-b ± √(b² − 4ac)) / 2a, as a display formula."""
    d, italic, upright = page.draw, font(SERIF_ITALIC, 34), font(SERIF, 34)
    left, mid = 330, page.y + 60
    d.text((left, mid), "x", font=italic, fill=INK, anchor="lm")
    d.text((left + 34, mid), "=", font=upright, fill=INK, anchor="lm")
    numerator = [("−", upright), ("b", italic), (" ± ", upright)]
    x = left + 84
    top = mid - 12
    for text, face in numerator:
        d.text((x, top), text, font=face, fill=INK, anchor="ls")
        x += face.getlength(text)
    d.text((x, top), "√", font=upright, fill=INK, anchor="ls")
    x += upright.getlength("√")
    start = x
    for text, face in [("b", italic), ("²", upright), (" − 4", upright), ("ac", italic)]:
        d.text((x, top), text, font=face, fill=INK, anchor="ls")
        x += face.getlength(text)
    d.line((start - 2, top - 30, x + 2, top - 30), fill=INK, width=2)  # the root's bar
    d.line((left + 80, mid, x + 6, mid), fill=INK, width=2)  # the fraction bar
    centre = (left + 80 + x + 6) / 2
    d.text((centre - 16, mid + 42), "2", font=upright, fill=INK, anchor="ls")
    d.text((centre + 4, mid + 42), "a", font=italic, fill=INK, anchor="ls")
    box = (left - 2, top - 34, x + 8, mid + 52)
    page.cell("Formula", box, r"x=\frac{-b\pm\sqrt{b^{2}-4ac}}{2a}")
    page.y = math.ceil(box[3]) + 12


def formula_sum(page: Page) -> None:
    """Σ_{i=1}^{n} i = n(n+1)/2, as a display formula."""
    d, italic, upright = page.draw, font(SERIF_ITALIC, 34), font(SERIF, 34)
    big, tiny, tiny_italic = font(SERIF, 60), font(SERIF, 22), font(SERIF_ITALIC, 22)
    left, mid = 360, page.y + 64
    d.text((left, mid), "∑", font=big, fill=INK, anchor="lm")
    d.text((left + 12, mid - 38), "n", font=tiny_italic, fill=INK, anchor="ls")
    d.text((left + 2, mid + 34), "i", font=tiny_italic, fill=INK, anchor="lt")
    d.text((left + 9, mid + 34), "=1", font=tiny, fill=INK, anchor="lt")
    x = left + 52
    d.text((x, mid), "i", font=italic, fill=INK, anchor="lm")
    d.text((x + 26, mid), "=", font=upright, fill=INK, anchor="lm")
    x += 70
    num = [("n", italic), ("(", upright), ("n", italic), (" + 1)", upright)]
    nx = x
    for text, face in num:
        d.text((nx, mid - 12), text, font=face, fill=INK, anchor="ls")
        nx += face.getlength(text)
    d.line((x - 4, mid, nx + 4, mid), fill=INK, width=2)
    d.text(((x + nx) / 2, mid + 12), "2", font=upright, fill=INK, anchor="mt")
    box = (left - 2, mid - 62, nx + 6, mid + 56)
    page.cell("Formula", box, r"\sum_{i=1}^{n}i=\frac{n(n+1)}{2}")
    page.y = math.ceil(box[3]) + 12


def cyrillic_page() -> Page:
    page = Page("cyrillic", 1008, 1232)
    body = font(SERIF, 25)
    page.y = 90
    page.block("Title", "Правила приёмки грузов на складе № 3", font(SANS_BOLD, 38), gap=30)
    page.block(
        "Text",
        "С первого числа следующего месяца склад принимает грузы только по предварительной "
        "записи. Водитель предъявляет накладную и пропуск на въезде, а кладовщик сверяет "
        "количество мест с документами.",
        body,
    )
    page.block("Section-header", "Что нужно подготовить", font(SANS_BOLD, 30), gap=18)
    for item in [
        "1. Заявку на приёмку не позднее чем за сутки до прибытия.",
        "2. Товарную накладную в двух экземплярах.",
        "3. Сертификаты на продукцию, если они требуются.",
    ]:
        page.block("List-item", item, body, x=MARGIN + 24, gap=12)
    page.y += 16
    page.block(
        "Text",
        "Грузы без маркировки возвращаются отправителю за его счёт. Вопросы о записи "
        "принимает диспетчер по телефону 27-45-10 с восьми до восемнадцати часов.",
        body,
    )
    return page


def chinese_page() -> Page:
    page = Page("chinese", 1008, 1232)
    body = font(CJK, 27)
    page.y = 90
    page.block("Title", "仓库安全管理规定", font(CJK, 44), gap=30, cjk=True)
    page.block(
        "Text",
        "为了保障员工的人身安全和货物的完好，所有进入仓库的人员必须遵守以下规定。"
        "新员工在上岗前应当参加安全培训，并通过考核。",
        body,
        cjk=True,
    )
    page.block("Section-header", "一、出入管理", font(CJK, 32), gap=18, cjk=True)
    page.block(
        "Text",
        "外来人员须在门卫处登记，由仓库管理员陪同进入。夜间仓库大门关闭后，"
        "任何人不得擅自打开。",
        body,
        cjk=True,
    )
    page.block("Section-header", "二、消防要求", font(CJK, 32), gap=18, cjk=True)
    for item in [
        "1. 库区内严禁吸烟和使用明火。",
        "2. 消防通道必须保持畅通，不得堆放货物。",
        "3. 灭火器每月检查一次，并做好记录。",
    ]:
        page.block("List-item", item, body, x=MARGIN + 24, gap=12, cjk=True)
    return page


def scan_page() -> Page:
    """A text page rotated by 2 degrees, on grey paper with specks, as a scanner gives it."""
    page = Page("scan", 952, 1232)
    body = font(SERIF, 25)
    page.y = 110
    page.block("Title", "Incident Report: Gate B Barrier", font(SANS_BOLD, 36), gap=28)
    page.block(
        "Text",
        "On the night of 3 February the barrier at gate B stayed closed for forty minutes "
        "after a power cut. Six trucks waited on the access road until the guard opened the "
        "barrier by hand.",
        body,
    )
    page.block(
        "Text",
        "The backup battery of the barrier had not been charged since the autumn service. "
        "The supplier replaced it the next morning free of charge.",
        body,
    )
    page.block("Section-header", "Measures agreed", font(SANS_BOLD, 28), gap=16)
    for item in [
        "1. The battery is tested every month and the test is logged.",
        "2. Guards are trained to open the barrier by hand within five minutes.",
    ]:
        page.block("List-item", item, body, x=MARGIN + 24, gap=12)
    page.block("Text", "Signed: M. Okafor, terminal safety officer", body, x=MARGIN + 300)
    return skew(page, degrees=1.5)


def skew(page: Page, degrees: float) -> Page:
    """Rotate the drawing (and every box) about the page centre; add paper tone and specks."""
    grey = page.image.convert("L")
    turned = grey.rotate(degrees, resample=Image.Resampling.BICUBIC, fillcolor=255)
    cx, cy = page.width / 2, page.height / 2
    a = math.radians(degrees)  # PIL turns counter-clockwise on screen

    def turn(x: float, y: float) -> tuple[float, float]:
        dx, dy = x - cx, y - cy
        return cx + dx * math.cos(a) + dy * math.sin(a), cy - dx * math.sin(a) + dy * math.cos(a)

    for cell in page.cells:
        x0, y0, x1, y1 = cell["bbox"]  # type: ignore[misc]
        corners = [turn(x, y) for x in (x0, x1) for y in (y0, y1)]
        xs, ys = [p[0] for p in corners], [p[1] for p in corners]
        cell["bbox"] = [
            max(0, math.floor(min(xs))),
            max(0, math.floor(min(ys))),
            min(page.width, math.ceil(max(xs))),
            min(page.height, math.ceil(max(ys))),
        ]
    # Paper tone (ink stays dark), a little blur, then sparse dust: still a small PNG.
    toned = turned.point(lambda v: round(30 + v * (236 - 30) / 255))
    toned = toned.filter(ImageFilter.GaussianBlur(0.6))
    rng = random.Random(7)
    dust = ImageDraw.Draw(toned)
    for _ in range(180):
        x, y = rng.randrange(page.width), rng.randrange(page.height)
        r = rng.choice((1, 1, 1, 2))
        dust.ellipse((x, y, x + r, y + r), fill=rng.randrange(90, 180))
    page.image = toned
    return page


PAGES = (text_page, table_page, formula_page, cyrillic_page, chinese_page, scan_page)


def fonts_missing() -> list[Path]:
    """The fonts the pages need that this machine does not have."""
    return [p for p in (SANS, SANS_BOLD, SERIF, SERIF_ITALIC, CJK) if not p.exists()]


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    out = Path(args[0]) if args else OUT
    missing = fonts_missing()
    if missing:
        print("missing fonts: " + ", ".join(map(str, missing)), file=sys.stderr)
        print("apt-get install fonts-dejavu-core fonts-dejavu-extra fonts-wqy-microhei",
              file=sys.stderr)
        return 1
    out.mkdir(parents=True, exist_ok=True)
    for make in PAGES:
        page = make()
        png = out / f"{page.name}.png"
        page.image.save(png, "PNG", optimize=True)
        lines = ",\n".join(
            "  " + json.dumps(c, ensure_ascii=False) for c in page.cells
        )
        (out / f"{page.name}.png.json").write_text(
            '{"cells": [\n' + lines + "\n]}\n", encoding="utf-8"
        )
        print(f"{png.name}: {page.width}x{page.height} px, {len(page.cells)} cells, "
              f"{png.stat().st_size // 1024} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
