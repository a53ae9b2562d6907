"""Generated multi-page documents with tables across pages, captions, numbered headings and
printed page numbers, a model's confusions over their elements, and how well the assembly
features hold up under them (for tests/test_noisy_features.py and benchmarks/noise_features.py).

The confusions are those the issue measured on dots.ocr (boxes moved a few points, categories
confused between neighbours, character errors, table cells split, dropped or misread, a page
number unreadable), applied to the elements in process: the pages go straight to the
:class:`DocumentBuilder`, so the figures say what the assembly does with a noisy reading, not
how the reading is made.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field

from langchain_core.documents import Document

from langchain_dotsocr.check.score import iou
from langchain_dotsocr.documents import DocumentBuilder
from langchain_dotsocr.identity import SourceId
from langchain_dotsocr.layout import Element
from langchain_dotsocr.pages import PageInfo
from langchain_dotsocr.read import PageResult
from langchain_dotsocr.settings import DotsOCRSettings
from tests.fakevllm.answers import says
from tests.fakevllm.noise import Noise
from tests.fakevllm.vision import Element as Seen

W, H = 612.0, 792.0
LEFT, RIGHT = 72.0, 540.0
_SENTENCE = (
    "stock shipments ledger region quarter warehouse returns figures office count month "
    "department planning measured values series method sample deviation reference run"
)
WORDS = _SENTENCE.split()


@dataclass
class Truth:
    """A generated document: its pages' elements and what the features should find."""

    pages: list[list[Element]] = field(default_factory=list)
    tags: list[list[str]] = field(default_factory=list)  # each element's name, page by page
    chains: list[tuple[str, ...]] = field(default_factory=list)  # tables over several pages
    captions: dict[str, str] = field(default_factory=dict)  # caption tag -> figure tag


def _sentence(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


def _table(header: list[str] | None, rows: list[list[str]]) -> str:
    head = "" if header is None else "<thead><tr>" + "".join(f"<th>{h}</th>" for h in header)
    head += "" if header is None else "</tr></thead>"
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table>{head}<tbody>{body}</tbody></table>"


class _Writer:
    """Lays a document out page by page, top to bottom."""

    def __init__(self, rng: random.Random, first_number: int) -> None:
        self.rng = rng
        self.truth = Truth()
        self.first_number = first_number
        self.y = 0.0
        self.numbers = [0, 0, 0]  # section numbering
        self.figures = 0
        self.tables = 0
        self.new_page()

    def new_page(self) -> None:
        index = len(self.truth.pages)
        self.truth.pages.append([])
        self.truth.tags.append([])
        self.add(
            "head", Element("Page-header", "Annual Report on Stock 2025", (LEFT, 24, RIGHT, 36))
        )
        self.y = 70.0
        self.page_index = index

    def finish_page(self) -> None:
        number = str(self.first_number + self.page_index)
        self.add("foot", Element("Page-footer", number, (296, 752, 316, 764)))

    def add(self, tag: str, element: Element) -> None:
        self.truth.pages[-1].append(element)
        self.truth.tags[-1].append(f"p{len(self.truth.pages) - 1}:{tag}:{len(self.truth.tags[-1])}")

    def room(self) -> float:
        return 740.0 - self.y

    def block(
        self, category: str, text: str, height: float, x1: float = RIGHT, gap: float = 12
    ) -> str:
        """A block under the last one, ``gap`` below it (a caption hugs its figure)."""
        if self.room() < height:
            self.finish_page()
            self.new_page()
        self.add(category, Element(category, text, (LEFT, self.y, x1, self.y + height)))
        self.y += height + gap
        return self.truth.tags[-1][-1]

    def title(self) -> None:
        self.block("Title", "A Study of Warehouse Stock and Returns", 34, x1=500)

    def heading(self, depth: int) -> None:
        self.numbers[depth - 1] += 1
        for k in range(depth, 3):
            self.numbers[k] = 0
        number = ".".join(str(n) for n in self.numbers[:depth])
        text = f"{number} {' '.join(self.rng.choice(WORDS) for _ in range(2)).title()}"
        size = (15, 13, 11)[depth - 1]
        if self.room() < 120:  # a heading never ends a page alone
            self.finish_page()
            self.new_page()
        self.block("Section-header", text, size * 1.3, x1=LEFT + 0.55 * size * len(text))

    def paragraph(self) -> None:
        lines = self.rng.randint(2, 6)
        self.block("Text", _sentence(self.rng, 13 * lines), 12.0 * lines)

    def figure(self) -> None:
        if self.room() < 200:
            self.finish_page()
            self.new_page()
        self.figures += 1
        picture = self.block("Picture", "", 150, x1=400, gap=6)
        caption = self.block(
            "Caption", f"Figure {self.figures}: {_sentence(self.rng, 6)}", 12, x1=400
        )
        self.truth.captions[caption] = picture

    def table(self, across: bool) -> None:
        """A captioned table; ``across``: it runs to the foot of the page and goes on."""
        self.tables += 1
        columns = self.rng.randint(2, 5)
        header = [self.rng.choice(WORDS).title() + f" {c}" for c in range(columns)]
        if self.room() < 160:
            self.finish_page()
            self.new_page()
        caption = self.block("Caption", f"Table {self.tables}: {_sentence(self.rng, 5)}", 12, gap=6)
        rows = self.rng.randint(3, 8)
        if not across:
            cells = [[f"{self.rng.randint(1, 999)}" for _ in range(columns)] for _ in range(rows)]
            self.truth.captions[caption] = self.block(
                "Table", _table(header, cells), 18.0 * (rows + 1)
            )
            return
        parts = []
        height = self.room()  # to the foot of the page
        rows = max(3, int(height // 18) - 1)
        cells = [[f"{self.rng.randint(1, 999)}" for _ in range(columns)] for _ in range(rows)]
        parts.append(self.block("Table", _table(header, cells), height))
        self.truth.captions[caption] = parts[0]
        self.finish_page()
        self.new_page()
        rows = self.rng.randint(2, 10)
        cells = [[f"{self.rng.randint(1, 999)}" for _ in range(columns)] for _ in range(rows)]
        again = header if self.rng.random() < 0.6 else None
        parts.append(self.block("Table", _table(again, cells), 18.0 * (rows + (again is not None))))
        self.truth.chains.append(tuple(parts))


def make_document(seed: int, sections: int = 6) -> Truth:
    """A document of numbered sections (``sections`` of them) with paragraphs, figures and
    tables, some across a page break, over as many pages as it takes."""
    rng = random.Random(seed)
    w = _Writer(rng, first_number=rng.choice((1, 1, 3, 17, 101)))
    w.title()
    w.paragraph()
    for _ in range(sections):
        w.heading(1)
        w.paragraph()
        for _ in range(rng.randint(1, 3)):
            w.heading(2)
            for _ in range(rng.randint(1, 3)):
                kind = rng.random()
                if kind < 0.15:
                    w.figure()
                elif kind < 0.25:
                    w.table(across=False)
                elif kind < 0.4:
                    w.table(across=True)
                elif kind < 0.55:
                    w.heading(3)
                    w.paragraph()
                else:
                    w.paragraph()
    w.finish_page()
    return w.truth


# -- A model's confusions ---------------------------------------------------------------------

#: Pixels per point of the pages the noise is drawn on (the loader renders at 200 dpi).
PX = 200 / 72


def confuse(page: Sequence[Element], noise: Noise, key: str) -> list[Element]:
    """One reading of a page's elements by the noisy double's model (:mod:`.fakevllm.noise`),
    drawn for the image ``key`` stands for: the same key and seed, the same reading."""
    seen = [
        Seen(e.category, n, tuple(round(v * PX) for v in e.bbox), text=e.text)  # type: ignore[arg-type]
        for n, e in enumerate(page)
    ]
    out = noise.apply(seen, key, (round(W * PX), round(H * PX)))
    return [Element(e.category, says(e), tuple(v / PX for v in e.bbox)) for e in out]  # type: ignore[arg-type]


# -- Through the assembly ---------------------------------------------------------------------


def assemble(pages: Sequence[Sequence[Element]], name: str = "doc.pdf") -> list[Document]:
    """The element Documents of a document whose pages read as ``pages``."""
    builder = DocumentBuilder(DotsOCRSettings(), "m", SourceId(name))
    docs: list[Document] = []
    for index, elements in enumerate(pages):
        info = PageInfo(name, index, len(pages), W, H, "pt", 0)
        docs += builder.page(PageResult(info, elements=list(elements)))
    return docs + builder.finish()


def _parts(doc: Document) -> list[tuple[int, list[float]]]:
    boxes = doc.metadata.get("page_boxes") or ""
    out = []
    for part in boxes.split(";"):
        page, _, box = part.partition(":")
        out.append((int(page), [float(v) for v in box.split(",")]))
    return out


def tag_documents(truth: Truth, docs: Sequence[Document]) -> dict[str, list[str]]:
    """Each Document's id -> the truth tags of its parts (matched by page and box)."""
    out: dict[str, list[str]] = {}
    for doc in docs:
        tags = []
        for page, box in _parts(doc):
            best = max(
                range(len(truth.pages[page])),
                key=lambda k: iou(truth.pages[page][k].bbox, box),
            )
            if iou(truth.pages[page][best].bbox, box) >= 0.5:
                tags.append(truth.tags[page][best])
        out[str(doc.id)] = tags
    return out


@dataclass
class Figures:
    """How many of each feature held, and how many went wrong."""

    joins: int = 0
    joins_kept: int = 0
    joins_wrong: int = 0
    links: int = 0
    links_kept: int = 0
    links_wrong: int = 0
    elements: int = 0
    paths_kept: int = 0
    pages: int = 0
    labels_kept: int = 0

    def add(self, other: Figures) -> None:
        for key, value in vars(other).items():
            setattr(self, key, getattr(self, key) + value)


def _structure(
    doc_id: str, by_id: dict[str, Document], tags: dict[str, list[str]]
) -> tuple[str, ...]:
    """The truth tags of the headings an element sits under, innermost first."""
    out = []
    parent = by_id[doc_id].metadata["parent_id"]
    while parent and parent in by_id and len(out) < 10:
        out.append((tags.get(parent) or ["?"])[0])
        parent = by_id[parent].metadata["parent_id"]
    return tuple(out)


def score(truth: Truth, clean: Sequence[Document], noisy: Sequence[Document]) -> Figures:
    """What held under the noise: joins and caption links against the truth, section paths and
    page labels against the clean reading."""
    f = Figures()
    tags = tag_documents(truth, noisy)
    chain_of = {part: chain for chain in truth.chains for part in chain}
    tables = [d for d in noisy if d.metadata["category"] == "Table"]
    joined = [tuple(tags[str(d.id)]) for d in tables if len(d.metadata["pages"]) > 1]
    f.joins = len(truth.chains)
    f.joins_kept = sum(1 for chain in truth.chains if chain in joined)
    f.joins_wrong = sum(1 for parts in joined if parts not in truth.chains)
    figure_of = {}
    for d in noisy:
        if d.metadata["belongs_to"]:
            figure_of[tuple(tags[str(d.id)])] = tuple(tags.get(d.metadata["belongs_to"], []))
    f.links = len(truth.captions)
    for caption, figure in truth.captions.items():
        whole = chain_of.get(figure, (figure,))
        if figure_of.get((caption,)) == whole:  # a joined table's caption: the whole table
            f.links_kept += 1
    for caption, figure in figure_of.items():
        if len(caption) != 1 or caption[0] not in truth.captions:
            if caption and caption[0].split(":")[1] == "Caption":
                f.links_wrong += 1  # a caption that belongs elsewhere (footnotes aside)
            continue
        want = truth.captions[caption[0]]
        if want not in figure:  # its own table, though not joined, is not a wrong link
            f.links_wrong += 1
    clean_tags = tag_documents(truth, clean)
    clean_by_id = {str(d.id): d for d in clean}
    noisy_by_id = {str(d.id): d for d in noisy}
    clean_paths = {
        tuple(clean_tags[i]): _structure(i, clean_by_id, clean_tags) for i in clean_by_id
    }
    for i in noisy_by_id:
        key = tuple(tags[i])
        if key in clean_paths and ":head:" not in key[0] and ":foot:" not in key[0]:
            f.elements += 1
            f.paths_kept += _structure(i, noisy_by_id, tags) == clean_paths[key]
    clean_labels = {d.metadata["page"]: d.metadata["page_label"] for d in clean}
    noisy_labels = {d.metadata["page"]: d.metadata["page_label"] for d in noisy}
    f.pages = len(clean_labels)
    f.labels_kept = sum(1 for p, label in clean_labels.items() if noisy_labels.get(p) == label)
    return f


def run(seeds: Sequence[int], documents: int, sections: int = 6, **rates: float) -> Figures:
    """The figures over ``documents`` generated documents under each noise seed (``rates``:
    the :class:`Noise` rates, its defaults otherwise)."""
    total = Figures()
    for d in range(documents):
        truth = make_document(1000 + d, sections)
        clean = assemble(truth.pages)
        for seed in seeds:
            noise = Noise(seed=seed, **rates)
            noisy = [confuse(page, noise, f"doc{d}/page{k}") for k, page in enumerate(truth.pages)]
            total.add(score(truth, clean, assemble(noisy)))
    return total
