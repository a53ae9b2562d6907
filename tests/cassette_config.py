"""vcrpy set-up for whole loader runs: secrets stripped, images reduced to a hash.

Cassettes are recorded against the vLLM double (tests/fakevllm) with
``DOTSOCR_RECORD=1 python -m pytest tests/test_cassettes.py``; every other run replays them
with ``record_mode="none"``, so a missing or stale cassette fails instead of reaching a server.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import re
from pathlib import Path
from typing import Any

import vcr
from PIL import Image

CASSETTES = Path(__file__).resolve().parent.parent / "cassettes"
RECORDING = os.environ.get("DOTSOCR_RECORD") == "1"
# One host for every recording: the double's port changes from run to run.
HOST = "http://fake-vllm.test"
_ORIGIN = re.compile(r"^https?://[^/]+")
_DATA_URL = re.compile(r"^data:image/[a-z]+;base64,(.*)$", re.S)


def _hash_image(url: str) -> str:
    m = _DATA_URL.match(url)
    if not m:
        return url
    image = Image.open(io.BytesIO(base64.b64decode(m.group(1))))
    # The pixels, not the encoded bytes: a new zlib must not invalidate the cassettes.
    digest = hashlib.sha256(image.convert("RGB").tobytes()).hexdigest()[:16]
    return f"image:{image.width}x{image.height}:sha256={digest}"


def _map_images(body: Any, change: Any) -> Any:
    """The JSON body with every image URL passed through ``change``."""
    data = json.loads(body)
    for message in data.get("messages", []):
        for part in message.get("content", []):
            if isinstance(part, dict) and part.get("type") == "image_url":
                part["image_url"]["url"] = change(part["image_url"]["url"])
    return data


def _scrub_body(body: Any) -> Any:
    if not body:
        return body
    return json.dumps(_map_images(body, _hash_image), sort_keys=True).encode()


def before_record_request(request: Any) -> Any:
    request.uri = _ORIGIN.sub(HOST, request.uri)
    if request.body:
        request.body = _scrub_body(request.body)
    return request


def _request_shape(body: Any) -> Any:
    """The request without the pixel hash: which page, prompt, sampling and budget."""
    if not body:
        return body
    return _map_images(body, lambda url: url.split(":sha256=")[0])


def body_shape(r1: Any, r2: Any) -> None:
    assert _request_shape(r1.body) == _request_shape(r2.body)


def recorder() -> vcr.VCR:
    v = vcr.VCR(
        cassette_library_dir=str(CASSETTES),
        record_mode="all" if RECORDING else "none",
        filter_headers=["authorization", "x-api-key", "cookie", "set-cookie", "host"],
        before_record_request=before_record_request,
        match_on=["method", "uri", "body_shape"],
        decode_compressed_response=True,
    )
    v.register_matcher("body_shape", body_shape)
    return v
