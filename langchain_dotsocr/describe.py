"""Pictures described by a vision model (``describe_pictures=``), so a figure is found by text.

The describer is any LangChain chat model that takes images (it gets one user message: the
prompt as text and the crop as an ``image_url`` data URL, LangChain's multimodal form) or a
plain callable that takes a :class:`.crops.Crop` and returns the description (an ``async``
function, or a plain one, which runs in a worker thread so that it blocks neither the run
nor its time-out). Calls run
concurrently, at most ``max_concurrency`` at once (16 when it is left to the loader), each
within ``page_timeout`` seconds. A
failure or a time-out costs the description, not the page: it is a share of the page lost,
which goes through the page's ``on_error`` naming the source, the page and the picture's box,
with the describer's secrets (its ``SecretStr`` fields) and any image data taken out of the
message.

With ``cache_dir`` a description is stored under a key of the crop's pixels, its caption and
the describer (a chat model's parameters as LangChain's own LLM cache keys them, secrets left
out; a callable's qualified name), so a re-run pays for none again.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import inspect
import json
import logging
import re
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage
from pydantic import BaseModel, SecretStr

from .crops import Crop, Describer
from .errors import DotsOCRError
from .sanitize import safe_markdown

if TYPE_CHECKING:
    from .cache import PageCache

logger = logging.getLogger("langchain_dotsocr")

#: What a chat model is asked, with the crop; the caption follows when the picture has one.
DESCRIBE_PROMPT = (
    "Describe this picture from a document in two to four sentences, for search: what it "
    "shows; for a chart or a diagram, its kind, its axes or parts, its labels and the main "
    "values or trend. Answer with the description only."
)
_DATA_URL = re.compile(r"data:[\w/+.-]+;base64,[A-Za-z0-9+/=]+")
_MASK = "**********"
MIN_SECRET = 8  # a shorter string under a secret-sounding name is not masked all over a log
_SECRET_NAME = re.compile(r"key|token|secret|passw|auth|credential|cookie", re.I)
MAX_REASON = 300  # characters of a describer's error kept in the log line


def prompt_of(crop: Crop) -> str:
    """The text a chat model gets with ``crop``."""
    if crop.caption:
        return f"{DESCRIBE_PROMPT}\nIts caption in the document: {crop.caption}"
    return DESCRIBE_PROMPT


def answer_text(message: BaseMessage) -> str:
    """The text of a chat model's answer, whether its content is a string or content blocks."""
    content = message.content
    if isinstance(content, str):
        return content
    parts = []
    for part in content:
        if isinstance(part, str):
            parts.append(part)
        elif isinstance(part, dict) and part.get("type") == "text":
            parts.append(str(part.get("text", "")))
    return "".join(parts)


def _secrets(value: object, depth: int = 2) -> Iterator[str]:
    """What may be a secret in a pydantic object (a chat model) and in the pydantic objects it
    holds, ``depth`` levels down: ``SecretStr`` fields, plain strings under a secret-sounding
    name, and such entries of its dicts (``default_headers={"Authorization": ...}``)."""
    if not isinstance(value, BaseModel) or depth < 0:
        return
    for name, field in value:
        if isinstance(field, SecretStr):
            yield field.get_secret_value()
        elif isinstance(field, str) and len(field) >= MIN_SECRET and _SECRET_NAME.search(name):
            yield field
        elif isinstance(field, dict):
            yield from _dict_secrets(field)
        else:
            yield from _secrets(field, depth - 1)


def _dict_secrets(entries: dict[Any, Any]) -> Iterator[str]:
    for key, item in entries.items():
        if isinstance(item, SecretStr):
            yield item.get_secret_value()
        elif isinstance(item, str) and len(item) >= MIN_SECRET and _SECRET_NAME.search(str(key)):
            yield item
            yield from item.split()[1:]  # "Bearer sk-...": the token alone too


class PictureDescriber:
    """Describes crops with a chat model or a callable, bounded, cached, never failing a page."""

    def __init__(
        self,
        describer: Describer,
        *,
        limit: int,
        timeout: float,
        cache: PageCache | None = None,
        secrets: tuple[str, ...] = (),
    ) -> None:
        self.describer = describer
        self.timeout = timeout
        self.cache = cache
        self._slots = asyncio.Semaphore(limit)
        self._secrets = tuple(s for s in (*secrets, *_secrets(describer)) if s)
        self._identity = _identity(describer)
        self._runs: dict[str, asyncio.Future[str]] = {}  # by key: each picture once a run

    @property
    def secrets(self) -> tuple[str, ...]:
        """What is masked in its log lines: the run's key and the describer's secrets."""
        return self._secrets

    def key(self, crop: Crop) -> str:
        """The cache key of ``crop``'s description by this describer."""
        parts = {
            "describer": self._identity,
            "prompt": DESCRIBE_PROMPT if isinstance(self.describer, BaseChatModel) else "",
            "caption": crop.caption,
            "png": hashlib.sha256(crop.png).hexdigest(),
        }
        return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()

    async def __call__(self, crop: Crop) -> str:
        """The description of ``crop`` (Markdown made safe). A picture seen again in the run
        (a logo on every page) is described once.

        Raises:
            DotsOCRError: the describer failed or took longer than ``page_timeout``; the
                reason holds no secret of the describer and no image data.
        """
        key = self.key(crop)
        task = self._runs.get(key)
        if task is None:
            task = self._runs[key] = asyncio.ensure_future(self._describe(crop, key))
        return await task

    async def _describe(self, crop: Crop, key: str) -> str:
        if self.cache and (known := self.cache.text(key)) is not None:
            return known
        try:
            async with self._slots, asyncio.timeout(self.timeout):
                text = await self._ask(crop)
        except TimeoutError:
            raise DotsOCRError(f"no description within page_timeout={self.timeout:g}s") from None
        except Exception as exc:  # any describer's failure costs the description alone
            # (not chained: the describer's own exception may quote its secrets)
            raise DotsOCRError(self._reason(f"{type(exc).__name__}: {exc}")) from None
        text = safe_markdown(text.strip())
        if self.cache and text:
            try:
                self.cache.put_text(key, text)
            except OSError as exc:
                logger.warning("a picture description was not cached (%s)", exc)
        return text

    async def _ask(self, crop: Crop) -> str:
        if isinstance(self.describer, BaseChatModel):
            content: list[str | dict[str, Any]] = [
                {"type": "text", "text": prompt_of(crop)},
                {"type": "image_url", "image_url": {"url": crop.data_url}},
            ]
            answer = await self.describer.ainvoke([HumanMessage(content=content)])
            return answer_text(answer)
        said: object
        if _is_async(self.describer):
            said = self.describer(crop)
        else:  # a plain function: in a thread, so it blocks neither the run nor the time-out
            said = await _in_thread(self.describer, crop)
        if inspect.isawaitable(said):  # (also what a plain function may hand back)
            said = await said
        if not isinstance(said, str):
            raise TypeError(f"the describer returned {type(said).__name__}, not str")
        return said

    def _reason(self, reason: str) -> str:
        """``reason`` without image data and the describer's secrets, cut to a log line."""
        reason = _DATA_URL.sub("data:...", reason)
        for secret in self._secrets:
            reason = reason.replace(secret, _MASK)
        if len(reason) > MAX_REASON:
            reason = reason[:MAX_REASON] + "..."
        return reason


async def _in_thread(function: Callable[[Crop], object], crop: Crop) -> object:
    """``function(crop)`` in a daemon thread of its own: one that hangs past its time-out is
    left behind, where a pool's thread would hold up the end of the run (asyncio waits for
    its default executor) and the exit of the program."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[object] = loop.create_future()

    def settle(result: object, error: BaseException | None) -> None:
        if done.done():
            return
        if error is None:
            done.set_result(result)
        else:
            done.set_exception(error)

    def run() -> None:
        result, error = None, None
        try:
            result = function(crop)
        except BaseException as exc:  # handed to the awaiting side, which logs it
            error = exc
        with contextlib.suppress(RuntimeError):  # the run is over: nobody waits
            loop.call_soon_threadsafe(settle, result, error)

    threading.Thread(target=run, name="dotsocr-describe", daemon=True).start()
    return await done


def _is_async(describer: object) -> bool:
    call = getattr(describer, "__call__", None)  # noqa: B004 (an object with an async __call__)
    return inspect.iscoroutinefunction(describer) or inspect.iscoroutinefunction(call)


def _identity(describer: Describer) -> str:
    """What tells one describer from another for the cache, without its secrets."""
    if isinstance(describer, BaseChatModel):
        try:
            # LangChain's own LLM cache keys a model by this: its parameters, secrets left out.
            return hashlib.sha256(describer._get_llm_string().encode()).hexdigest()
        except Exception:  # a model LangChain cannot serialise: its class alone
            return f"{type(describer).__module__}.{type(describer).__qualname__}"
    module = getattr(describer, "__module__", "") or ""
    name = getattr(describer, "__qualname__", None) or type(describer).__qualname__
    return f"{module}.{name}"
