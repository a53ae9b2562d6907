"""The default ``length_function``: an estimate of tokens that needs no tokenizer.

Subword tokenizers of embedding models give about one token per CJK character (Chinese,
Japanese kana, Korean hangul), one per four Latin letters or digits, one per two letters of
other scripts (Cyrillic, Greek, accented words: fewer merges were learnt for them) and one per
punctuation mark or symbol. The estimate counts that way, rounding each word up, so it errs
high rather than low: a chunk it lets through is rarely too long for the model. Pass the
model's own counter as ``length_function`` to size chunks exactly (recipes in the README).
"""

from __future__ import annotations

import re

_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\uff66-\uff9f"
_PIECES = re.compile(rf"([{_CJK}])|([A-Za-z0-9]+)|([^\W_A-Za-z0-9{_CJK}]+)|(\S)")


def estimate_tokens(text: str) -> int:
    """An estimate of the tokens ``text`` makes for a subword tokenizer (see the module).

    Args:
        text: any text.

    Returns:
        The estimate, 0 for blank text.
    """
    total = 0
    for cjk, latin, other, _mark in _PIECES.findall(text):
        if cjk:
            total += 1
        elif latin:
            total += -(-len(latin) // 4)
        elif other:
            total += -(-len(other) // 2)
        else:
            total += 1
    return total
