"""page_label: the PDF's labels, else a printed page number neighbours confirm, else page + 1."""

import pytest

from langchain_dotsocr import DotsOCRLoader, ServerError
from langchain_dotsocr.documents.labels import printed_number
from tests.fakevllm import (
    Box,
    FaultPlan,
    PageSpec,
    make_image,
    make_pdf,
    page_footer_box,
    sample_page,
)


@pytest.mark.parametrize(
    ("text", "token", "strength"),
    [
        ("37", "37", 2),
        ("- 37 -", "37", 2),
        ("— 37 —", "37", 2),
        ("[37]", "37", 2),
        ("Page 37", "37", 2),
        ("page 37 of 120", "37", 2),
        ("37 / 120", "37", 2),
        ("p. 37", "37", 2),
        ("Seite 37 von 120", "37", 2),
        ("Стр. 37", "37", 2),
        ("第37页", "37", 2),
        ("第 37 页 共 120 页", "37", 2),
        ("iv", "iv", 2),
        ("XII", "XII", 2),
        ("37 Results and discussion", "37", 1),
        ("Annual Report | 37", "37", 1),
        ("Smith et al. 37", "37", 1),
    ],
)
def test_printed_numbers(text, token, strength):
    found = printed_number(text)
    assert found is not None and (found.token, found.strength) == (token, strength)


@pytest.mark.parametrize(
    "text",
    ["Quarterly Report", "Header", "IIII", "Mix", "ACME © 2025 Inc.", "Confidential", "", "iV"],
)
def test_not_page_numbers(text):
    assert printed_number(text) is None


def test_roman_values():
    assert [printed_number(t).value for t in ("i", "iv", "ix", "xiv", "XL", "MCMXC")] == [
        1, 4, 9, 14, 40, 1990,
    ]


def numbered_pdf(fake, footers, *, page_labels=None):
    """A PDF whose page i prints ``footers[i]`` in its footer (None: no footer, no header)."""
    specs = []
    for i, footer in enumerate(footers):
        furniture = ("Page-header", "Page-footer")
        boxes = tuple(b for b in sample_page(i).boxes if b.category not in furniture)
        if footer is not None:
            boxes += (page_footer_box(i, 612, 792),)
            fake.texts[("Page-footer", i)] = footer
        specs.append(PageSpec(612, 792, boxes))
    return make_pdf(specs, page_labels=page_labels)


def labels(docs):
    return {d.metadata["page"]: d.metadata["page_label"] for d in docs}


def test_the_pdfs_own_labels_win(fast, fake):
    pdf = numbered_pdf(
        fake, ["7", "8", "9", "10"], page_labels="<< /Nums [0 << /S /r >> 2 << /S /D >>] >>"
    )
    docs = DotsOCRLoader(pdf, **fast).load()
    assert labels(docs) == {0: "i", 1: "ii", 2: "1", 3: "2"}


def test_printed_numbers_confirmed_by_neighbours(fast, fake):
    pdf = numbered_pdf(fake, ["- 37 -", "38", "Page 39 of 120", "40", "Report 2025", "ACME"])
    docs = DotsOCRLoader(pdf, **fast).load()
    # Pages 4 and 5 print no page number: their position, from 1.
    assert labels(docs) == {0: "37", 1: "38", 2: "39", 3: "40", 4: "5", 5: "6"}


def test_front_matter_in_roman_then_arabic(fast, fake):
    pdf = numbered_pdf(fake, ["iii", "iv", "1", "2"])
    assert labels(DotsOCRLoader(pdf, **fast).load()) == {0: "iii", 1: "iv", 2: "1", 3: "2"}


def test_numbers_that_do_not_agree_are_not_trusted(fast, fake):
    # A lone number, and the same number twice: not confirmed; 30 and 31 confirm each other.
    pdf = numbered_pdf(fake, ["12", None, "30", "31", "31"])
    want = {0: "1", 1: "2", 2: "30", 3: "31", 4: "5"}
    assert labels(DotsOCRLoader(pdf, **fast).load()) == want


def test_pages_of_a_selection_check_each_other_by_their_distance(fast, fake):
    pdf = numbered_pdf(fake, ["11", "12", "13", "14", "15"])
    docs = DotsOCRLoader(pdf, pages=[4, 1, 3], **fast).load()
    # Page 1 (printed 12) and page 3 (printed 14) are two pages apart: confirmed; page 4
    # came first, with nothing before it, and agrees with page 1 (15 - 12 == 4 - 1).
    assert labels(docs) == {4: "15", 1: "12", 3: "14"}


def test_cached_pages_get_the_same_labels(fast, fake, tmp_path):
    pdf = numbered_pdf(fake, ["21", "22", "23"])
    first = DotsOCRLoader(pdf, cache_dir=tmp_path, **fast).load()
    fake.reset()
    again = DotsOCRLoader(pdf, cache_dir=tmp_path, **fast).load()
    assert fake.chat_requests == []
    assert labels(again) == labels(first) == {0: "21", 1: "22", 2: "23"}


def test_scanned_images_use_printed_numbers_or_the_frame(fast, fake):
    frames = [[Box("Text", 1, 10, 10, 300, 60), page_footer_box(i, 400, 500)] for i in range(3)]
    tiff = make_image(400, 500, [], fmt="TIFF", frames=frames)
    assert labels(DotsOCRLoader(tiff, **fast).load()) == {0: "1", 1: "2", 2: "3"}
    fake.texts = {("Page-footer", i): str(101 + i) for i in range(3)}
    assert labels(DotsOCRLoader(tiff, **fast).load()) == {0: "101", 1: "102", 2: "103"}


def test_a_page_waiting_for_its_neighbour_leaves_before_a_failure(fast, fake):
    pdf = numbered_pdf(fake, ["5", "6"])
    fake.faults = FaultPlan(by_page={1: ["http_400"] * 10})
    loader = DotsOCRLoader(pdf, **fast)
    seen = []
    with pytest.raises(ServerError):
        for doc in loader.lazy_load():
            seen.append(doc)
    # Page 0 waited for page 1 to confirm its number; page 1 failed, so page 0 left first,
    # whole, with the label it can prove.
    assert {d.metadata["page"] for d in seen} == {0}
    assert len(seen) == len(sample_page(0).boxes) - 1  # its page header left out
    assert labels(seen) == {0: "1"}
    marked = DotsOCRLoader(pdf, on_error="mark", **fast).load()
    assert [d.metadata["category"] for d in marked][-1] == "Error"
    assert labels(marked) == {0: "1", 1: "2"}
