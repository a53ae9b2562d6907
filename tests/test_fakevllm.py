"""Tests of the vLLM/dots.ocr test double (tests/fakevllm), talking to it with plain httpx."""

from __future__ import annotations

import base64
import io
import itertools
import json
import math
import threading
import time
from typing import Any

import httpx
import pypdfium2 as pdfium
import pytest
from PIL import Image, ImageOps

from tests.fakevllm import (
    CATEGORIES,
    FAULT_KINDS,
    PLACEHOLDER,
    PROMPTS,
    Box,
    FakeVLLM,
    FaultPlan,
    LatencyModel,
    PageSpec,
    budget_chars,
    colour_element,
    element_colour,
    element_text,
    expected_boxes_displayed,
    make_image,
    make_pdf,
    page_footer_box,
    render_page,
    sample_page,
    serve,
)

pytestmark = pytest.mark.timeout(60)

MODEL = "rednote-hilab/dots.ocr"
TIMEOUT = httpx.Timeout(10.0)


# -- an independent client side -----------------------------------------------------------------


def conforming_size(width: int, height: int) -> tuple[int, int]:
    """(w, h) by the resize rule (28-px multiples, 3136..11289600 px), written apart from the
    double's own implementation."""
    lo, hi, f = 3136, 11289600, 28
    h, w = max(f, f * round(height / f)), max(f, f * round(width / f))
    if h * w > hi:
        shrink = math.sqrt(height * width / hi)
        h, w = max(f, f * int(height / shrink // f)), max(f, f * int(width / shrink // f))
    elif h * w < lo:
        grow = math.sqrt(lo / (height * width))
        h, w = f * math.ceil(height * grow / f), f * math.ceil(width * grow / f)
    return w, h


def png_bytes(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


def body(
    image: bytes,
    mode: str = "prompt_layout_all_en",
    *,
    media: str = "image/png",
    suffix: str = "",
    **params: Any,
) -> dict[str, Any]:
    url = f"data:{media};base64," + base64.b64encode(image).decode()
    request: dict[str, Any] = {
        "model": MODEL,
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "image_url", "image_url": {"url": url}},
                    {"type": "text", "text": PLACEHOLDER + PROMPTS[mode] + suffix},
                ],
            }
        ],
        "temperature": 0.1,
        "top_p": 1.0,
    }
    request.update(params)
    return request


def content(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    return str(response.json()["choices"][0]["message"]["content"])


def read_stream(client: httpx.Client, request: dict[str, Any]) -> list[dict[str, Any]]:
    events = []
    with client.stream("POST", "/chat/completions", json=request) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if not line:
                continue
            assert line.startswith("data: ")
            events.append({"done": True} if line == "data: [DONE]" else json.loads(line[6:]))
    return events


def streamed_text(events: list[dict[str, Any]]) -> str:
    return "".join(e["choices"][0]["delta"].get("content", "") for e in events if e.get("choices"))


def assert_boxes(
    cells: list[dict[str, Any]], expected: dict[tuple[str, int], tuple[float, ...]]
) -> None:
    """Each cell's box within 1 px of the expected box of the element its category/text names."""
    assert len(cells) == len(expected)
    by_key: dict[tuple[str, int], list[int]] = {}
    for c in cells:
        matches = [
            k for k in expected if k[0] == c["category"] and element_text(*k) == c.get("text")
        ]
        assert len(matches) == 1, c
        by_key[matches[0]] = c["bbox"]
    for key, box in expected.items():
        got = by_key[key]
        assert all(abs(g - e) <= 1 for g, e in zip(got, box, strict=True)), (key, got, box)


# -- fixtures --------------------------------------------------------------------------------------

PAGE = sample_page(3)


@pytest.fixture(scope="module")
def pdf() -> bytes:
    return make_pdf([PAGE, sample_page(4, rotate=90), PageSpec(612, 792, ())])


@pytest.fixture(scope="module")
def page_png(pdf: bytes) -> bytes:
    """Page 3 rendered at 200 dpi and resized client-side to a conforming size."""
    image = render_page(pdf, 0, 200)
    return png_bytes(image.resize(conforming_size(*image.size), Image.Resampling.LANCZOS))


@pytest.fixture
def fake() -> FakeVLLM:
    return FakeVLLM()


@pytest.fixture
def client(fake: FakeVLLM) -> Any:
    with serve(fake) as base_url, httpx.Client(base_url=base_url, timeout=TIMEOUT) as c:
        yield c


# -- scene ----------------------------------------------------------------------------------------


def test_palette_is_unique_and_never_grey_or_white() -> None:
    colours = {element_colour(c, n) for c in CATEGORIES for n in range(64)}
    assert len(colours) == 11 * 64
    for r, g, b in colours:
        assert len({r, g, b}) > 1 and max(r, g, b) <= 220
        assert colour_element((r, g, b)) is not None
    assert colour_element((255, 255, 255), 9) is None
    assert colour_element((20 + 5, 16 - 5, 17 + 4), 9) == ("Caption", 0)
    assert element_text("Picture", 0) is None
    assert element_text("Formula", 2) == "x_{2} = \\frac{a}{b}"


def test_pdf_is_lossless_and_rotated_as_pdfium_shows_it(pdf: bytes) -> None:
    doc = pdfium.PdfDocument(pdf)
    assert len(doc) == 3
    assert [doc[i].get_rotation() for i in range(3)] == [0, 90, 0]
    doc.close()
    image = render_page(pdf, 0, 72)
    found = {colour_element(rgb) for _, rgb in image.getcolors(1 << 20) or []} - {None}
    assert found == {(b.category, b.n) for b in PAGE.boxes}  # exact palette colours survive
    rotated = sample_page(4, rotate=90)
    shown = render_page(pdf, 1, 72)
    assert shown.size == (792, 612)
    for box in expected_boxes_displayed(rotated):
        cx, cy = (box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2
        assert colour_element(shown.getpixel((int(cx), int(cy)))) == (box.category, box.n)  # type: ignore[arg-type]


@pytest.mark.parametrize("rotate", [180, 270])
def test_expected_boxes_follow_every_rotation(rotate: int) -> None:
    spec = PageSpec(
        400, 300, (Box("Text", 1, 10, 20, 110, 60), page_footer_box(2, 400, 300)), rotate
    )
    shown = render_page(make_pdf([spec], oversample=2), 0, 72)
    for box in expected_boxes_displayed(spec):
        cx, cy = (box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2
        assert colour_element(shown.getpixel((int(cx), int(cy)))) == (box.category, box.n)  # type: ignore[arg-type]


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_make_image_exif_orientation_shows_boxes_where_given(orientation: int) -> None:
    box = Box("Title", 5, 10, 20, 60, 40)
    data = make_image(120, 80, [box], fmt="JPEG", exif_orientation=orientation)
    shown = ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB")
    assert shown.size == (120, 80)
    assert colour_element(shown.getpixel((35, 30)), 9) == ("Title", 5)  # type: ignore[arg-type]
    assert colour_element(shown.getpixel((100, 70)), 9) is None  # type: ignore[arg-type]


def test_make_image_formats_and_frames() -> None:
    box = Box("Text", 9, 4, 4, 40, 30)
    for fmt in ("PNG", "WEBP", "TIFF", "BMP", "GIF"):
        image = Image.open(io.BytesIO(make_image(64, 48, [box], fmt=fmt)))
        assert colour_element(image.convert("RGB").getpixel((20, 20))) == ("Text", 9)  # type: ignore[arg-type]
    tiff = make_image(64, 48, [], fmt="TIFF", frames=[[box], [Box("Title", 1, 4, 4, 40, 30)]])
    image = Image.open(io.BytesIO(tiff))
    assert image.n_frames == 2
    image.seek(1)
    assert colour_element(image.convert("RGB").getpixel((20, 20))) == ("Title", 1)  # type: ignore[arg-type]


# -- endpoints -----------------------------------------------------------------------------------


def test_models_health_and_unknown_paths(client: httpx.Client) -> None:
    models = client.get("/models").json()
    assert models["object"] == "list"
    card = models["data"][0]
    assert card["id"] == card["root"] == MODEL
    assert card["max_model_len"] == 32768 and card["owned_by"] == "vllm" and card["parent"] is None
    assert card["permission"][0]["object"] == "model_permission"
    base = str(client.base_url).removesuffix("/v1/").removesuffix("/v1")
    health = httpx.get(base + "/health", timeout=TIMEOUT)
    assert health.status_code == 200 and health.content == b""
    missing = client.get("/nothing")
    assert missing.status_code == 404 and missing.json() == {"detail": "Not Found"}
    assert client.get("/chat/completions").status_code == 405


def test_api_key_is_required_under_v1() -> None:
    fake = FakeVLLM(api_key="sekret")
    with serve(fake) as base_url:
        bare = httpx.get(base_url + "/models", timeout=TIMEOUT)
        assert bare.status_code == 401 and bare.json() == {"error": "Unauthorized"}
        wrong = httpx.get(
            base_url + "/models", headers={"Authorization": "Bearer nope"}, timeout=TIMEOUT
        )
        assert wrong.status_code == 401
        good = httpx.get(
            base_url + "/models", headers={"Authorization": "Bearer sekret"}, timeout=TIMEOUT
        )
        assert good.status_code == 200
        assert (
            httpx.get(base_url.removesuffix("/v1") + "/health", timeout=TIMEOUT).status_code == 200
        )


def test_unknown_model_is_404(client: httpx.Client, page_png: bytes) -> None:
    response = client.post("/chat/completions", json=body(page_png, model="other"))
    assert response.status_code == 404
    assert response.json() == {
        "error": {
            "message": "The model `other` does not exist.",
            "type": "NotFoundError",
            "param": "model",
            "code": 404,
        }
    }


# -- what it reads -------------------------------------------------------------------------------


@pytest.mark.parametrize("dpi", [200, 100])
def test_layout_boxes_of_a_pdf_page_resized_by_the_client(
    client: httpx.Client, fake: FakeVLLM, pdf: bytes, dpi: int
) -> None:
    image = render_page(pdf, 0, dpi)
    w, h = conforming_size(*image.size)
    sent = image.resize((w, h), Image.Resampling.BICUBIC)
    response = client.post(
        "/chat/completions", json=body(png_bytes(sent), max_completion_tokens=4096)
    )
    cells = json.loads(content(response))
    sx, sy = w / PAGE.width, h / PAGE.height
    expected = {(b.category, b.n): (b.x0 * sx, b.y0 * sy, b.x1 * sx, b.y1 * sy) for b in PAGE.boxes}
    assert_boxes(cells, expected)
    assert [c["bbox"][1] for c in cells] == sorted(c["bbox"][1] for c in cells)  # reading order
    assert "text" not in next(c for c in cells if c["category"] == "Picture")
    rec = fake.requests[-1]
    assert rec.image_size == (w, h) and rec.image_resized is False and rec.page == 3
    assert rec.prompt_mode == "prompt_layout_all_en" and rec.max_completion_tokens == 4096
    assert rec.temperature == 0.1 and rec.top_p == 1.0 and rec.stream is False
    usage = response.json()["usage"]
    assert (
        usage["prompt_tokens"]
        == (w // 28) * (h // 28) + len(PROMPTS["prompt_layout_all_en"]) // 4 + 10
    )


def test_rotated_page_is_read_as_displayed(client: httpx.Client, pdf: bytes) -> None:
    image = render_page(pdf, 1, 100)
    w, h = conforming_size(*image.size)
    cells = json.loads(
        content(client.post("/chat/completions", json=body(png_bytes(image.resize((w, h))))))
    )
    spec = sample_page(4, rotate=90)
    sx, sy = w / spec.height, h / spec.width  # displayed width is the page's height
    expected = {
        (b.category, b.n): (b.x0 * sx, b.y0 * sy, b.x1 * sx, b.y1 * sy)
        for b in expected_boxes_displayed(spec)
    }
    assert_boxes(cells, expected)


def test_a_non_conforming_image_is_resized_by_the_server(
    client: httpx.Client, fake: FakeVLLM, pdf: bytes
) -> None:
    image = render_page(pdf, 0, 200)
    assert image.size == (1700, 2200)
    cells = json.loads(content(client.post("/chat/completions", json=body(png_bytes(image)))))
    rec = fake.requests[-1]
    assert rec.image_resized is True and rec.model_image_size == (1708, 2212)
    sx, sy = 1708 / PAGE.width, 2212 / PAGE.height
    expected = {(b.category, b.n): (b.x0 * sx, b.y0 * sy, b.x1 * sx, b.y1 * sy) for b in PAGE.boxes}
    assert_boxes(cells, expected)


def test_layout_only_ocr_and_grounding(client: httpx.Client, page_png: bytes) -> None:
    only = json.loads(
        content(client.post("/chat/completions", json=body(page_png, "prompt_layout_only_en")))
    )
    assert only and all(set(c) == {"bbox", "category"} for c in only)
    ocr = content(client.post("/chat/completions", json=body(page_png, "prompt_ocr")))
    assert ocr.startswith("# Title 0\n\nText block 0.\n\n## Section 0")
    assert "Header 3" not in ocr and "Page 4" not in ocr and "\u00b9 Footnote 0." in ocr
    table = next(c for c in only if c["category"] == "Table")
    x1, y1, x2, y2 = table["bbox"]
    suffix = f"[{x1 + 3}, {y1 - 2}, {x2 - 4}, {y2 + 1}]"
    grounded = content(
        client.post("/chat/completions", json=body(page_png, "prompt_grounding_ocr", suffix=suffix))
    )
    assert grounded == element_text("Table", 0)
    nothing = content(
        client.post(
            "/chat/completions",
            json=body(page_png, "prompt_grounding_ocr", suffix="[0, 0, 20, 20]"),
        )
    )
    assert nothing == ""


def test_formats_the_server_reads(client: httpx.Client) -> None:
    boxes = [
        Box("Title", 2, 50, 40, 500, 90),
        Box("Text", 7, 50, 120, 500, 300),
        page_footer_box(9, 560, 700),
    ]
    for fmt, media in (("JPEG", "image/jpeg"), ("WEBP", "image/webp"), ("PNG", "image/png")):
        data = make_image(560, 700, boxes, fmt=fmt)
        cells = json.loads(content(client.post("/chat/completions", json=body(data, media=media))))
        assert [(c["category"], c.get("text")) for c in cells] == [
            ("Title", "# Title 2"),
            ("Text", "Text block 7."),
            ("Page-footer", "Page 10"),  # page 9 prints its number from 1
        ]
        assert all(
            abs(a - b) <= 2 for a, b in zip(cells[0]["bbox"], (50, 40, 500, 90), strict=True)
        )
    blank = make_image(560, 700, [])
    assert content(client.post("/chat/completions", json=body(blank))) == "[]"


def test_exif_orientation_is_not_applied_like_vllm(client: httpx.Client, fake: FakeVLLM) -> None:
    data = make_image(560, 700, [Box("Title", 2, 50, 40, 500, 90)], exif_orientation=6)
    cells = json.loads(content(client.post("/chat/completions", json=body(data))))
    assert fake.requests[-1].image_size == (700, 560)  # the stored pixels, not the displayed ones
    x1, y1, x2, y2 = cells[0]["bbox"]
    assert x2 - x1 < y2 - y1  # a wide title seen standing up


# -- contract -------------------------------------------------------------------------------------


def test_contract_violations_are_refused_in_strict_mode(
    client: httpx.Client, fake: FakeVLLM, page_png: bytes
) -> None:
    with_system = body(page_png)
    with_system["messages"].insert(0, {"role": "system", "content": "You are helpful."})
    no_placeholder = body(page_png)
    no_placeholder["messages"][0]["content"][1]["text"] = PROMPTS["prompt_ocr"]
    mislabelled = body(page_png, media="image/jpeg")
    unknown_prompt = body(page_png, suffix=" Please.")
    for request in (with_system, no_placeholder, mislabelled, unknown_prompt):
        response = client.post("/chat/completions", json=request)
        assert response.status_code == 400
        assert "contract violation" in response.json()["error"]["message"]
    fake.strict = False
    assert client.post("/chat/completions", json=with_system).status_code == 200
    assert fake.requests[-1].violations


def test_vllm_parameter_checks(client: httpx.Client, page_png: bytes) -> None:
    assert client.post("/chat/completions", json=body(page_png, max_tokens=0)).status_code == 400
    assert client.post("/chat/completions", json=body(page_png, top_p=0)).status_code == 400
    options = body(page_png, stream_options={"include_usage": True})
    assert client.post("/chat/completions", json=options).status_code == 400
    broken = client.post(
        "/chat/completions", content=b"{", headers={"Content-Type": "application/json"}
    )
    assert broken.status_code == 400


# -- budget -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("style", "wording"),
    [
        (1, "However, you requested {total} tokens ({p} in the messages, {m} in the completion)"),
        (
            2,
            "'max_tokens' or 'max_completion_tokens' is too large: {m}. This model's maximum "
            "context length is 32768 tokens and your request has {p} input tokens "
            "({m} > 32768 - {p})",
        ),
        (
            3,
            "However, you requested {m} output tokens and your prompt contains at least {shown} "
            "input tokens, for a total of at least {shown_total} tokens",
        ),
        (4, "The decoder prompt (length {total}) is longer than the maximum model length of 32768"),
    ],
)
def test_context_length_wordings(page_png: bytes, style: int, wording: str) -> None:
    fake = FakeVLLM(context_error_style=style)
    with serve(fake) as base_url, httpx.Client(base_url=base_url, timeout=TIMEOUT) as c:
        response = c.post("/chat/completions", json=body(page_png, max_tokens=30000))
        assert response.status_code == 400
        error = response.json()["error"]
        assert error["type"] == "BadRequestError" and error["code"] == 400
        p = fake.requests[-1].prompt_tokens
        assert p is not None
        shown = min(p, 32768 - 30000 + 1)
        expected = wording.format(
            m=30000, p=p, total=p + 30000, shown=shown, shown_total=shown + 30000
        )
        assert expected in error["message"]
        # the same wording as a planned fault, with a request that fits
        fake.faults = FaultPlan(by_page={3: [f"ctx_wording_{style}"]})
        fake.reset()
        faulted = c.post("/chat/completions", json=body(page_png, max_tokens=30000 - p - 100))
        assert faulted.status_code == 400


def test_decoder_prompt_when_the_image_alone_is_too_long(page_png: bytes) -> None:
    fake = FakeVLLM(max_model_len=4096)
    with serve(fake) as base_url:
        response = httpx.post(
            base_url + "/chat/completions", json=body(page_png, max_tokens=100), timeout=TIMEOUT
        )
    p = fake.requests[-1].prompt_tokens
    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith(
        f"The decoder prompt (length {p}) is longer than the maximum model length of 4096."
    )


def test_flat_error_shape_and_overlong_accepted(page_png: bytes) -> None:
    fake = FakeVLLM(error_shape="flat", max_model_len=8000)
    with serve(fake) as base_url, httpx.Client(base_url=base_url, timeout=TIMEOUT) as c:
        flat = c.post("/chat/completions", json=body(page_png, max_tokens=7000)).json()
        assert flat["object"] == "error" and flat["code"] == 400 and "message" in flat
        fake.accept_overlong_with_length = True
        fake.faults = FaultPlan(by_page={3: ["ok", "loop_cell"]})  # the 400 was attempt 0
        answer = c.post("/chat/completions", json=body(page_png, max_tokens=7000)).json()
        p = fake.requests[-1].prompt_tokens
        assert p is not None
        assert answer["choices"][0]["finish_reason"] == "length"
        assert answer["usage"]["completion_tokens"] == 8000 - p


# -- streaming ------------------------------------------------------------------------------------


def test_stream_reassembles_to_the_plain_answer(client: httpx.Client, page_png: bytes) -> None:
    plain = client.post("/chat/completions", json=body(page_png, max_completion_tokens=4096)).json()
    events = read_stream(
        client,
        body(
            page_png,
            max_completion_tokens=4096,
            stream=True,
            stream_options={"include_usage": True},
        ),
    )
    assert events[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert events[-1] == {"done": True}
    usage_event = events[-2]
    assert usage_event["choices"] == [] and usage_event["usage"] == {
        k: plain["usage"][k] for k in ("prompt_tokens", "total_tokens", "completion_tokens")
    }
    last = events[-3]["choices"][0]
    assert last["finish_reason"] == "stop"
    assert all(e["choices"][0]["finish_reason"] is None for e in events[:-3])
    assert streamed_text(events) == plain["choices"][0]["message"]["content"]
    assert len(events) > 10  # deltas of a few tokens each


def test_a_loop_streams_until_the_budget(
    client: httpx.Client, fake: FakeVLLM, page_png: bytes
) -> None:
    fake.faults = FaultPlan(by_page={3: ["loop_table"]})
    events = read_stream(
        client, body(page_png, max_tokens=2000, stream=True, stream_options={"include_usage": True})
    )
    text = streamed_text(events)
    assert len(text) == budget_chars(2000)
    assert text.count("<tr><td></td><td></td></tr>") > 150
    assert events[-3]["choices"][0]["finish_reason"] == "length"
    assert events[-2]["usage"]["completion_tokens"] == 2000
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)


def test_a_paced_loop_stops_when_the_client_leaves(page_png: bytes) -> None:
    model = LatencyModel(slots=4, prefill_tokens_per_s=1e6, decode_tokens_per_s=400)
    fake = FakeVLLM(latency=model, faults=FaultPlan(by_page={3: ["loop_char"]}))
    request = body(page_png, max_tokens=20000, stream=True)  # 50 s of decoding at 400 tok/s
    with serve(fake) as base_url, httpx.Client(base_url=base_url, timeout=TIMEOUT) as c:
        start = time.monotonic()
        with c.stream("POST", "/chat/completions", json=request) as response:
            for n, _line in enumerate(response.iter_lines()):
                if n == 40:
                    break
        elapsed = time.monotonic() - start
        deadline = time.monotonic() + 60  # a poll: as long as a loaded machine needs
        while fake.requests[-1].finished_at is None and time.monotonic() < deadline:
            time.sleep(0.02)
    rec = fake.requests[-1]
    assert rec.disconnected and rec.finished_at is not None
    assert rec.finish_reason == "length" and rec.completion_tokens == 20000
    assert rec.sent_chars < budget_chars(20000) // 10
    # ~20 deltas of 4 tokens were due before the client left: about 0.2 s at 400 tok/s, far
    # from the whole answer's 50 s whatever the machine's load
    assert 0.1 < elapsed < 25


def test_keep_alive_reuses_one_connection(
    client: httpx.Client, fake: FakeVLLM, page_png: bytes
) -> None:
    for _ in range(3):
        assert client.get("/models").status_code == 200
    client.post("/chat/completions", json=body(page_png))
    read_stream(client, body(page_png, stream=True))
    assert client.get("/models").status_code == 200
    assert len({r.peer for r in fake.requests}) == 1


def test_drop_mid_breaks_the_transfer(
    client: httpx.Client, fake: FakeVLLM, page_png: bytes
) -> None:
    fake.faults = FaultPlan(by_page={3: ["drop_mid", "drop_mid", "drop_before", "ok"]})
    with pytest.raises(httpx.TransportError):
        read_stream(client, body(page_png, stream=True))
    with pytest.raises(httpx.TransportError):
        client.post("/chat/completions", json=body(page_png))
    with pytest.raises(httpx.TransportError):
        client.post("/chat/completions", json=body(page_png))
    assert client.post("/chat/completions", json=body(page_png)).status_code == 200
    assert [r.fault for r in fake.chat_requests] == ["drop_mid", "drop_mid", "drop_before", "ok"]


# -- faults -------------------------------------------------------------------------------------


def test_faults_by_page_and_attempt(client: httpx.Client, fake: FakeVLLM, page_png: bytes) -> None:
    fake.faults = FaultPlan(by_page={3: ["http_429", "http_503", "http_502", "ok"]}, retry_after=2)
    first = client.post("/chat/completions", json=body(page_png))
    assert first.status_code == 429 and first.headers["retry-after"] == "2"
    assert client.post("/chat/completions", json=body(page_png)).status_code == 503
    gateway = client.post("/chat/completions", json=body(page_png))
    assert gateway.status_code == 502 and "text/html" in gateway.headers["content-type"]
    assert client.post("/chat/completions", json=body(page_png)).status_code == 200
    assert fake.attempts(3) == 4
    assert [r.attempt for r in fake.chat_requests] == [0, 1, 2, 3]


def test_random_faults_are_reproducible() -> None:
    plan = FaultPlan(rates={"http_500": 0.3, "loop_char": 0.2}, seed=7)
    draws = [plan.choose(page, attempt) for page in range(40) for attempt in range(3)]
    assert draws == [plan.choose(page, attempt) for page in range(40) for attempt in range(3)]
    assert {"http_500", "loop_char", "ok"} == set(draws)
    with pytest.raises(ValueError):
        FaultPlan(by_page={1: ["nonsense"]})


@pytest.mark.parametrize(
    ("kind", "parses"),
    [
        ("invalid_json", False),
        ("truncate", False),
        ("loop_cell", False),
        ("loop_char", False),
        ("malformed_boxes", True),
        ("duplicate", True),
        ("ascii_escape", True),
        ("empty", True),
    ],
)
def test_broken_answers(
    client: httpx.Client, fake: FakeVLLM, page_png: bytes, kind: str, parses: bool
) -> None:
    fake.faults = FaultPlan(by_page={3: [kind]})
    response = client.post("/chat/completions", json=body(page_png, max_tokens=1500))
    text = content(response)
    finish = response.json()["choices"][0]["finish_reason"]
    assert finish == ("length" if kind in ("truncate", "loop_cell", "loop_char") else "stop")
    if not parses:
        with pytest.raises(json.JSONDecodeError):
            json.loads(text)
        return
    cells = json.loads(text)
    if kind == "malformed_boxes":
        boxes = [c["bbox"] for c in cells]
        assert boxes[0][2] < boxes[0][0] and boxes[1][2] > 1708 and len(boxes[2]) == 3
    elif kind == "duplicate":
        assert len(cells) == 14 and any(a == b for a, b in itertools.pairwise(cells))
    elif kind == "ascii_escape":
        assert "\\u00b9 Footnote" in text
    else:
        assert cells == []
    if kind == "invalid_json":
        assert '"} {"bbox"' in text


def test_hang_is_released_by_shutdown(page_png: bytes) -> None:
    fake = FakeVLLM(faults=FaultPlan(by_page={3: ["hang"]}, hang_seconds=120))
    with serve(fake) as base_url:
        with pytest.raises(httpx.ReadTimeout):
            httpx.post(base_url + "/chat/completions", json=body(page_png), timeout=0.5)
        left = time.monotonic()
    assert time.monotonic() - left < 60  # released, not the hang's 120 s


# -- latency --------------------------------------------------------------------------------------


def test_latency_model_paces_and_queues(page_png: bytes) -> None:
    model = LatencyModel(slots=1, prefill_tokens_per_s=1e6, decode_tokens_per_s=2000)
    fake = FakeVLLM(latency=model)
    results: list[float] = []
    with serve(fake) as base_url:

        def one() -> None:
            start = time.monotonic()
            r = httpx.post(
                base_url + "/chat/completions",
                json=body(page_png, max_tokens=4000),
                timeout=TIMEOUT,
            )
            assert r.status_code == 200
            results.append(time.monotonic() - start)

        threads = [threading.Thread(target=one) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(20)
    tokens = fake.chat_requests[0].completion_tokens
    assert tokens is not None
    alone = model.request_seconds(5000, tokens)
    assert min(results) >= alone * 0.9
    assert max(results) >= 2 * alone * 0.9  # the second waited for the only slot
    assert fake.max_concurrency == 1 and fake.max_in_flight == 2
    assert model.ideal_pages_per_second(5000, 300) == pytest.approx(
        1 / model.request_seconds(5000, 300)
    )


def test_latency_can_change_while_serving(
    client: httpx.Client, fake: FakeVLLM, page_png: bytes
) -> None:
    assert client.post("/chat/completions", json=body(page_png)).status_code == 200
    fake.latency = LatencyModel(slots=2, prefill_tokens_per_s=1e6, decode_tokens_per_s=1000)
    start = time.monotonic()
    assert client.post("/chat/completions", json=body(page_png)).status_code == 200
    tokens = fake.requests[-1].completion_tokens
    assert tokens is not None and time.monotonic() - start >= tokens / 1000


def test_fault_kinds_are_all_known() -> None:
    assert {"ok", "http_429", "drop_mid", "hang", "loop_table", "ctx_wording_4"} <= FAULT_KINDS
