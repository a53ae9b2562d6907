"""Read the two gauges that say how loaded a vLLM server is from its Prometheus text."""

from __future__ import annotations

import re

from .capacity import Load

_SAMPLE = re.compile(
    r"^vllm:num_requests_(running|waiting)(?:\{(?P<labels>[^}]*)\})?\s+(?P<value>\S+)", re.M
)
_MODEL = re.compile(r'model_name="((?:[^"\\]|\\.)*)"')


def parse_load(text: str, model: str) -> Load | None:
    """Running and waiting requests of ``model`` (summed over engines), or None if absent.

    Samples of other models are left out; samples without a ``model_name`` label count.
    """
    totals = {"running": 0.0, "waiting": 0.0}
    seen = set()
    for match in _SAMPLE.finditer(text):
        labels = _MODEL.search(match.group("labels") or "")
        if labels is not None and labels.group(1) != model:
            continue
        try:
            value = float(match.group("value"))
        except ValueError:
            continue
        totals[match.group(1)] += value
        seen.add(match.group(1))
    if seen != {"running", "waiting"}:
        return None
    return Load(round(totals["running"]), round(totals["waiting"]))
