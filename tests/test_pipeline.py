"""The run itself: a failure that is not a document's fails loudly instead of hanging."""

from __future__ import annotations

import pytest

from langchain_dotsocr import DotsOCRParser


class Exploding:
    """A blob-like source whose reading fails with an error that is not about the document."""

    source = "exploding.pdf"

    def as_bytes(self) -> bytes:
        raise RuntimeError("disk controller on fire")


@pytest.mark.timeout(30)
def test_unexpected_error_while_reading_propagates(fast):
    with pytest.raises(RuntimeError, match="on fire"):
        list(DotsOCRParser(**fast).lazy_parse_many([Exploding()]))  # type: ignore[list-item]
