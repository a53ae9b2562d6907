"""The PDF's own text layer: read it, judge whether to trust it, give the text inside a box.

See ``docs/text-layer.md`` for the rules and their thresholds.
"""

from .agree import AGREEMENT, agrees, sample_boxes
from .chars import Box
from .layer import PageLayer, read_layer
from .lines import Word
from .trust import Trust

__all__ = [
    "AGREEMENT",
    "Box",
    "PageLayer",
    "Trust",
    "Word",
    "agrees",
    "read_layer",
    "sample_boxes",
]
