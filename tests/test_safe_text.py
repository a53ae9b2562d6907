"""Nothing the model writes becomes markup: checked by rendering with a permissive Markdown
renderer (raw HTML on, link checks off), as a chat UI might."""

import html
import re
from html.parser import HTMLParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from langchain_dotsocr import DotsOCRLoader
from langchain_dotsocr.sanitize import SAFE_SCHEMES, safe_formula, safe_markdown
from tests.fakevllm import Box, PageSpec, make_pdf, page_footer_box

MARKDOWN_TAGS = {
    "p", "a", "img", "em", "strong", "code", "pre", "ul", "ol", "li", "blockquote", "hr", "br",
    "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td",
}
ATTRIBUTES = {"href", "src", "alt", "title", "rowspan", "colspan", "start"}


class Markup(HTMLParser):
    """Every tag, attribute and link target of a rendered page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attributes += [(name, value or "") for name, value in attrs]

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        self.tags.append(tag)

    def handle_comment(self, data):
        self.tags.append("<!--")

    def handle_decl(self, decl):
        self.tags.append("<!")

    def handle_pi(self, data):
        self.tags.append("<?")


def render(markdown: str) -> Markup:
    md = MarkdownIt("commonmark", {"html": True})
    md.validateLink = lambda url: True  # a renderer that trusts every link
    parsed = Markup()
    parsed.feed(md.render(markdown))
    parsed.close()
    return parsed


def assert_inert(markdown: str) -> None:
    page = render(markdown)
    assert set(page.tags) <= MARKDOWN_TAGS, (markdown, page.tags)
    for name, value in page.attributes:
        if name == "class" and value.startswith("language-"):
            continue  # the renderer's own mark of a fenced block's info string
        assert name in ATTRIBUTES, (markdown, name)
        if name in ("href", "src"):
            target = re.sub(r"[\x00-\x20]", "", html.unescape(value)).lower()
            scheme = re.match(r"([a-z][a-z0-9+.-]*):", target)
            assert scheme is None or scheme.group(1) in SAFE_SCHEMES, (markdown, value)


HOSTILE = [
    "<script>alert(1)</script>Hello",
    "<img src=x onerror=alert(1)>",
    "<img src=x onerror=alert(1)",  # never closed
    "<scr<b>ipt>alert(1)</script>",  # a tag assembled by stripping another
    "<script\nalert(1)",  # an HTML block that would run to the end of the page
    "<!-- open comment",
    "<![CDATA[x]]> <?php x ?> <!DOCTYPE html>",
    "<a href='javascript:alert(1)'>x</a>",
    "<svg><animate onbegin=alert(1)></svg>",
    "<iframe srcdoc='<script>alert(1)</script>'></iframe>",
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](jav&#97;script:alert(1))",
    "[click](javascript&#58;alert(1))",
    "[click](javascript\\:alert(1))",
    "[click](<javascript:alert(1)>)",
    "[click]( javascript:alert(1) 'title')",
    "![pic](data:image/svg+xml;base64,PHN2Zz4=)",
    "![pic](vbscript:msgbox(1))",
    "[ref]\n\n[ref]: javascript:alert(1)",
    "[a [nested] link](javascript:alert((1)))",
    "<table><tr><td onclick=steal()>1</td><td><script>x</script></td></tr></table>",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_renders_inert(text):
    assert_inert(safe_markdown(text))
    assert_inert(f"## {safe_markdown(text)}")


def test_words_survive_and_markup_goes():
    assert safe_markdown("H<sub>2</sub>O and CO<sub>2</sub>") == "H2O and CO2"
    assert safe_markdown("one<br>two<br/>three") == "one\ntwo\nthree"
    assert safe_markdown("<script>alert(1)</script>Hello <b>world</b>") == "Hello world"
    assert safe_markdown("x &lt; y & z") == "x &lt; y & z"  # text the model escaped stays so
    assert safe_markdown("0<x<1 and a < b") == "0<x<1 and a < b"  # no tag can open: as written
    keep = "[docs](https://example.com/a_(b)) [top](#top) [mail](mailto:a@b.c) [rel](x/y.md)"
    assert safe_markdown(keep) == keep
    assert safe_markdown("[x](javascript:alert(1)) after") == "[x](#) after"


def test_tables_inside_text_keep_table_markup_only():
    text = "see <table><tr><td onclick=x colspan=2>1</td></tr></table> <b>after</b>"
    assert safe_markdown(text) == (
        'see <table><tbody><tr><td colspan="2">1</td></tr></tbody></table> after'
    )


def test_formulas_keep_their_latex():
    assert safe_formula(r"0<x<1, \frac{a}{b} > c") == r"0< x<1, \frac{a}{b} > c"
    assert safe_formula("x</2") == "x</2"  # `</` and a digit opens nothing
    assert_inert(f"$$\n{safe_formula('a<script>alert(1)</script>')}\n$$")


PIECES = st.sampled_from(
    [
        "<", ">", "/", "!", "?", "-", "=", '"', "'", " ", "\n", "\\", "[", "]", "(", ")", ":",
        "&#58;", "&lt;", "script", "img", "a", "on", "error", "href", "javascript", "data",
        "table", "td", "br", "!--", "x", "CDATA", "svg",
    ]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(PIECES, max_size=40).map("".join))
def test_no_text_renders_to_markup(text):
    assert_inert(safe_markdown(text))


def test_documents_of_a_hostile_page_are_inert_in_every_mode(fast, fake):
    boxes = [Box("Text", n, 72, 60 + 40 * n, 540, 90 + 40 * n) for n in range(len(HOSTILE))]
    boxes += [Box("Section-header", 1, 72, 20, 300, 40), page_footer_box(0, 612, 1100)]
    pdf = make_pdf([PageSpec(612, 1100, tuple(boxes))])
    fake.texts = {("Text", n): text for n, text in enumerate(HOSTILE)}
    fake.texts[("Section-header", 1)] = "## <img src=x onerror=alert(1)>Results"
    elements = DotsOCRLoader(pdf, **fast).load()
    for doc in elements:
        assert_inert(doc.page_content)
    heading = next(d for d in elements if d.metadata["category"] == "Section-header")
    assert heading.metadata["section_path"] == "Results"
    (page,) = DotsOCRLoader(pdf, mode="page", **fast).load()
    assert_inert(page.page_content)
    (ocr,) = DotsOCRLoader(pdf, prompt_mode="ocr", **fast).load()
    assert_inert(ocr.page_content)


# -- the document's own angle brackets: every character kept, none read as a tag ---------------


def visible(markdown: str, *, html: bool) -> str:
    """The text a reader sees when ``markdown`` is rendered (raw HTML passed or not)."""
    md = MarkdownIt("commonmark", {"html": html})

    class Text(HTMLParser):
        def __init__(self) -> None:
            super().__init__(convert_charrefs=True)
            self.parts: list[str] = []

        def handle_data(self, data: str) -> None:
            self.parts.append(data)

    parsed = Text()
    parsed.feed(md.render(markdown))
    parsed.close()
    return re.sub(r"\s+", " ", "".join(parsed.parts)).strip()


# Real text from real documents: (what the model writes, what a reader sees).
DOCUMENT_BRACKETS = [
    ("%op <operator> <specifier> <precedence>", "%op <operator> <specifier> <precedence>"),
    ("std::vector<int> v; std::map<std::string, T> m;",
     "std::vector<int> v; std::map<std::string, T> m;"),
    ("template <typename T> class Box<T>", "template <typename T> class Box<T>"),
    ("<expr> ::= <term> | <expr> \"+\" <term>", "<expr> ::= <term> | <expr> \"+\" <term>"),
    ("See <http://www.gnu.org/licenses/> for details.",
     "See <http://www.gnu.org/licenses/> for details."),
    ("Source: <https://example.org/a?b=1&c=2>", "Source: <https://example.org/a?b=1&c=2>"),
    ("Write to John Smith <john.smith@example.com>.",
     "Write to John Smith <john.smith@example.com>."),
    ("if a<b and c>d then", "if a<b and c>d then"),
    ("error x</2 found", "error x</2 found"),
    ("<b", "<b"),
    ("<div class to the line's start", "<div class to the line's start"),
    ("- <script is a list item", "<script is a list item"),  # rendered as a list
    ("the <!-- comment --> and <?php ?> forms", "the <!-- comment --> and <?php ?> forms"),
    ("Use `vector<int>` here", "Use vector<int> here"),  # a code span, shown as is
    ("H<sub>2</sub>O at <i>T</i> < 300 K", "H2O at T < 300 K"),  # the model's own markup
]


@pytest.mark.parametrize(("written", "seen"), DOCUMENT_BRACKETS)
def test_the_documents_angle_brackets_are_kept(written, seen):
    text = safe_markdown(written)
    assert visible(text, html=True) == seen
    assert_inert(text)
    assert_inert(f"## {text}")


def test_code_is_left_as_written():
    code = "```cpp\nstd::vector<int> v;\n```\nthen `a<b>` and <x>"
    assert safe_markdown(code) == "```cpp\nstd::vector<int> v;\n```\nthen `a<b>` and \\<x>"


def test_table_cells_keep_their_angle_brackets():
    from langchain_dotsocr.sanitize import clean_table

    table = "<table><tr><td>vector<int></td><td>x</2</td><td><expr></td></tr></table>"
    cleaned = clean_table(table)
    assert visible(cleaned, html=True) == "vector<int>x</2<expr>"  # three cells
    assert "&lt;int&gt;" in cleaned


TEXT_PIECES = st.sampled_from(
    ["<", ">", "/", "!", "?", "-", "=", "\"", " ", "\n", "\\", "x", "expr", "int", "T", "2",
     "op", "`", "*", "#", "1."]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(TEXT_PIECES, max_size=30).map("".join))
def test_text_that_is_no_markup_reads_the_same(text):
    """Text holding no HTML element: what a reader sees of it with raw HTML on, once made
    safe, is what they see of it as written with raw HTML off: no character is lost."""
    assert visible(safe_markdown(text), html=True) == visible(text, html=False)
    assert_inert(safe_markdown(text))
