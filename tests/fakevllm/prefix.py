"""vLLM's automatic prefix caching, as far as a dots.ocr request goes.

A request's tokens are the chat template's start, the image's tokens, then the prompt text. A
later request that begins the same way (the same image: a re-ask, a grounding read of another
box) finds that prefix in the cache and prefills only the rest. vLLM caches whole blocks of 16
tokens and always computes the last prompt token, so the cached count is rounded down.
"""

from __future__ import annotations

from collections import OrderedDict

from .answers import TEMPLATE_TOKENS
from .resize import image_tokens

BLOCK = 16
_TEMPLATE_START = TEMPLATE_TOKENS // 2


class PrefixCache:
    """Remembers the images (and image + prompt pairs) of recent requests."""

    def __init__(self, capacity: int = 512) -> None:
        self.capacity = capacity
        self._seen: OrderedDict[tuple[str, str], None] = OrderedDict()

    def clear(self) -> None:
        self._seen.clear()

    def cached(self, digest: str, prompt: str, size: tuple[int, int], prompt_tokens: int) -> int:
        """Prompt tokens of this request already in the cache; remembers the request."""
        w, h = size
        shared = 0
        if (digest, "") in self._seen:
            shared = _TEMPLATE_START + image_tokens(h, w)
            if (digest, prompt) in self._seen:
                shared = prompt_tokens
        for key in ((digest, ""), (digest, prompt)):
            self._seen[key] = None
            self._seen.move_to_end(key)
        while len(self._seen) > self.capacity:
            self._seen.popitem(last=False)
        return min(shared, prompt_tokens - 1) // BLOCK * BLOCK
