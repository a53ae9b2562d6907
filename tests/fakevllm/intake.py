"""Reading a chat request as vLLM would, and checking it against the dots.ocr request contract.

vLLM-level problems (bad JSON, unknown model, bad parameters, an unreadable image, an aspect ratio
over 200) are always refused. Departures from the contract the model expects (one user message;
content = [image_url data URL (PNG/JPEG/WebP, type matching), text]; the text = placeholder +
one of the prompts) are listed in ``RecordedRequest.violations`` and refused when ``strict``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import json
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from PIL import Image, UnidentifiedImageError

from .answers import GROUNDING, LAYOUT_ALL, LAYOUT_ONLY, PLACEHOLDER, identify_prompt, prompt_tokens
from .reference import recognise
from .resize import smart_resize
from .vision import Element, detect
from .wire import Exchange

if TYPE_CHECKING:
    from .server import FakeVLLM

_MEDIA_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}
_KNOWN_FIELDS = frozenset(
    {
        "model",
        "messages",
        "max_tokens",
        "max_completion_tokens",
        "temperature",
        "top_p",
        "stream",
        "stream_options",
    }
)
JSON = "application/json"


@dataclass
class RecordedRequest:
    """What the double saw of one request and what it did with it (times: time.monotonic())."""

    index: int
    method: str
    path: str
    received_at: float
    peer: str = ""  # client "host:port": requests on one keep-alive connection share it
    status: int | None = None  # None when the connection was dropped before any answer
    model: str | None = None
    prompt_mode: str | None = None  # key of dotsocr-prompts.json, None if not recognised
    grounding_box: tuple[float, ...] | None = None
    image_format: str | None = None  # PIL format of the image received
    image_size: tuple[int, int] | None = None  # (w, h) as received
    model_image_size: tuple[int, int] | None = None  # (w, h) after the server's smart resize
    image_resized: bool | None = None  # True when the server had to resize (size not conforming)
    image_lossy: bool = False  # JPEG or lossy WebP: colours matched with a wider tolerance
    max_tokens: int | None = None
    max_completion_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    stream: bool = False
    include_usage: bool = False
    continuous_usage: bool = False  # stream_options.continuous_usage_stats: usage in every chunk
    image_digest: str = ""  # hash of the pixels the model sees, the prefix cache's key
    cached_tokens: int = 0  # prompt tokens found in the prefix cache (not prefilled again)
    extra: dict[str, Any] = field(default_factory=dict)  # other top-level request fields
    violations: list[str] = field(default_factory=list)  # departures from the request contract
    elements: list[Element] = field(default_factory=list)  # what the double detected
    page: int | str | None = None  # the page marker's n, or a reference page's name
    attempt: int | None = None  # how many earlier requests for this page the double had seen
    fault: str | None = None
    prompt_tokens: int | None = None
    budget: int | None = None  # output tokens allowed (requested, or the rest of the context)
    completion_tokens: int | None = None  # tokens of the whole answer that was to be sent
    sent_chars: int = 0  # characters of the answer actually sent
    finish_reason: str | None = None
    error: str | None = None  # message of an error answer
    disconnected: bool = False  # the client went away before the answer was complete
    killed: bool = False  # the double was killed (kill()) before the answer was complete
    started_at: float | None = None  # slot taken (prefill starts)
    first_token_at: float | None = None
    finished_at: float | None = None


class Reject(Exception):
    """An error answer decided while reading the request."""

    def __init__(
        self, status: int, message: str, type_: str = "BadRequestError", param: str | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.type_, self.param = status, message, type_, param


@dataclass
class Job:
    mode: str
    box: tuple[float, ...] | None
    elements: list[Element]
    size: tuple[int, int]  # resized (w, h)
    prompt_tokens: int
    requested: int | None
    stream: bool
    include_usage: bool
    continuous_usage: bool
    prompt_text: str


def read_request(ex: Exchange, rec: RecordedRequest, fake: FakeVLLM) -> Job:
    """Read and check a chat request, detect the page's elements; raise Reject to refuse it."""
    media = (ex.header("Content-Type") or "").split(";")[0].strip().lower()
    if media != JSON:
        raise Reject(400, "Unsupported Media Type: Only 'application/json' is allowed")
    try:
        req = json.loads(ex.body)
    except (ValueError, UnicodeDecodeError) as e:
        raise Reject(400, f"JSON decode error: {e}") from e
    if not isinstance(req, dict):
        raise Reject(400, "Input should be a valid dictionary or object")
    model = req.get("model")
    rec.model = model if isinstance(model, str) else None
    if model is not None and model != fake.model_id:
        raise Reject(
            404,
            f"The model `{model}` does not exist.",
            "NotFoundError",
            "model" if fake.error_shape == "nested" else None,
        )
    rec.extra = {k: v for k, v in req.items() if k not in _KNOWN_FIELDS}
    rec.max_tokens = _positive_int(req, "max_tokens")
    rec.max_completion_tokens = _positive_int(req, "max_completion_tokens")
    rec.temperature, rec.top_p = _sampling(req)
    stream = req.get("stream")
    if stream is not None and not isinstance(stream, bool):
        raise Reject(400, "stream: Input should be a valid boolean")
    rec.stream = bool(stream)
    options = req.get("stream_options")
    if options is not None:
        if not rec.stream:
            raise Reject(400, "Stream options can only be defined when `stream=True`.")
        if not isinstance(options, dict):
            raise Reject(400, "stream_options: Input should be a valid dictionary")
        rec.include_usage = bool(options.get("include_usage"))
        rec.continuous_usage = bool(options.get("continuous_usage_stats"))

    data_url, text = _contract(req.get("messages"), rec)
    image = _load_image(data_url, rec)
    prompt = text[len(PLACEHOLDER) :] if text.startswith(PLACEHOLDER) else text
    mode, box = identify_prompt(prompt)
    rec.prompt_mode, rec.grounding_box = mode, box
    if mode is None:
        rec.violations.append("the text after the placeholder is not a dots.ocr prompt")
    if fake.strict and rec.violations:
        raise Reject(400, "fakevllm contract violation: " + "; ".join(rec.violations))

    w, h = image.size
    try:
        h2, w2 = smart_resize(h, w, min_pixels=fake.min_pixels, max_pixels=fake.max_pixels)
    except ValueError as e:
        raise Reject(400, str(e)) from e
    rec.model_image_size, rec.image_resized = (w2, h2), (w2, h2) != (w, h)
    if rec.image_resized:
        image = image.resize((w2, h2), Image.Resampling.BICUBIC)
    tolerance = fake.colour_tolerance
    if tolerance is None:
        tolerance = 9 if rec.image_lossy else 4
    rec.image_digest = hashlib.sha256(image.tobytes()).hexdigest()
    known = recognise(image)
    if known is not None:
        rec.page, rec.elements = known
    else:
        rec.elements = detect(image, tolerance)
        rec.page = next((e.n for e in rec.elements if e.category == "Page-footer"), None)
    rec.elements = [  # the test's own words for an element win
        replace(e, text=fake.texts[(e.category, e.n)]) if (e.category, e.n) in fake.texts else e
        for e in rec.elements
    ]
    if fake.noise is not None and mode in (LAYOUT_ALL, LAYOUT_ONLY):
        rec.elements = fake.noise.apply(rec.elements, rec.image_digest, (w2, h2))
    elif fake.noise is not None:  # ocr and grounding answers are text: text noise only
        rec.elements = fake.noise.apply_text(rec.elements, rec.image_digest)
    rec.prompt_tokens = prompt_tokens(prompt, (w2, h2))
    requested = rec.max_completion_tokens
    if requested is None:
        requested = rec.max_tokens
    return Job(
        mode or LAYOUT_ALL,
        box if mode == GROUNDING else None,
        rec.elements,
        (w2, h2),
        rec.prompt_tokens,
        requested,
        rec.stream,
        rec.include_usage,
        rec.continuous_usage,
        prompt,
    )


def _contract(messages: object, rec: RecordedRequest) -> tuple[str, str]:
    """The image data URL and the text of the request; departures go to rec.violations."""
    if not isinstance(messages, list) or not messages:
        raise Reject(400, "messages: Field required (a non-empty list)")
    v = rec.violations
    if len(messages) != 1:
        v.append(f"expected exactly one (user) message, got {len(messages)}")
    users = [m for m in messages if isinstance(m, dict) and m.get("role") == "user"]
    if not users:
        raise Reject(400, "fakevllm: the request has no user message")
    content = users[-1].get("content")
    if isinstance(content, str):
        v.append("content must be a list [image_url, text], got a string")
        content = [{"type": "text", "text": content}]
    if not isinstance(content, list):
        raise Reject(400, "messages[0].content: Input should be a valid string or list")
    kinds = [p.get("type") if isinstance(p, dict) else None for p in content]
    if kinds != ["image_url", "text"]:
        v.append(f"content parts must be ['image_url', 'text'], got {kinds}")
    images = [p for p in content if isinstance(p, dict) and p.get("type") == "image_url"]
    texts = [
        str(p.get("text", "")) for p in content if isinstance(p, dict) and p.get("type") == "text"
    ]
    if not images:
        raise Reject(400, "fakevllm: the request has no image (the double answers pages only)")
    if len(images) > 1:
        v.append(f"expected one image, got {len(images)}")
    ref = images[0].get("image_url")
    url = ref.get("url") if isinstance(ref, dict) else None
    if not isinstance(url, str):
        raise Reject(400, "image_url.url: Field required")
    text = "\n".join(texts)
    if not text.startswith(PLACEHOLDER):
        v.append(f"the text must start with {PLACEHOLDER}")
    return url, text


def _load_image(url: str, rec: RecordedRequest) -> Image.Image:
    if not url.startswith("data:"):
        raise Reject(400, "fakevllm: only data URLs can be read (no network)")
    header, _, data = url[5:].partition(",")
    media_type, _, encoding = header.partition(";")
    if encoding != "base64":
        raise Reject(400, "Only base64 data URLs are supported for now.")
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError) as e:
        raise Reject(400, f"Failed to load image from data URL: {e}") from e
    try:
        image = Image.open(io.BytesIO(raw))
        image.load()
    except (UnidentifiedImageError, OSError) as e:
        raise Reject(400, f"Failed to load image: {e}") from e
    rec.image_format = image.format
    rec.image_size = image.size
    rec.image_lossy = image.format == "JPEG" or (image.format == "WEBP" and raw[12:16] == b"VP8 ")
    expected = _MEDIA_TYPES.get(image.format or "")
    if expected is None:
        rec.violations.append(f"image format {image.format} is not PNG, JPEG or WebP")
    elif media_type != expected:
        rec.violations.append(f"data URL says {media_type} but the image is {image.format}")
    return _to_rgb(image)


def _to_rgb(image: Image.Image) -> Image.Image:
    """As vLLM: RGBA over a white background, any other mode converted to RGB."""
    if image.mode == "RGB":
        return image
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        white = Image.new("RGB", rgba.size, (255, 255, 255))
        white.paste(rgba, mask=rgba.getchannel("A"))
        return white
    return image.convert("RGB")


def _positive_int(req: dict[str, Any], name: str) -> int | None:
    value = req.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise Reject(400, f"{name}: Input should be a valid integer")
    if value < 1:
        raise Reject(400, f"{name} must be at least 1, got {value}.", param=name)
    return value


def _sampling(req: dict[str, Any]) -> tuple[float | None, float | None]:
    temperature, top_p = req.get("temperature"), req.get("top_p")
    for name, value in (("temperature", temperature), ("top_p", top_p)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise Reject(400, f"{name}: Input should be a valid number")
    if temperature is not None and temperature < 0:
        raise Reject(
            400, f"temperature must be non-negative, got {temperature}.", param="temperature"
        )
    if top_p is not None and not 0 < top_p <= 1:
        raise Reject(400, f"top_p must be in (0, 1], got {top_p}.", param="top_p")
    return (
        float(temperature) if temperature is not None else None,
        float(top_p) if top_p is not None else None,
    )
