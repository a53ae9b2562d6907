"""A page's text layer as data and back (how it travels in a Ray row): on every kind of test
PDF the round trip through JSON gives the same verdict, characters, text and ink share."""

from __future__ import annotations

import json

import pytest

from langchain_dotsocr.textlayer import layer_from_dict, layer_to_dict
from tests import textpdfs
from tests.test_textlayer import opened


@pytest.mark.parametrize("kind", sorted(textpdfs.KINDS))
def test_a_layer_comes_back_from_json_as_it_was_read(kind: str) -> None:
    from langchain_dotsocr.textlayer import read_layer

    t = textpdfs.KINDS[kind]()
    with opened(t.pdf) as (page, image):
        layer = read_layer(page, image)
    data = json.loads(json.dumps(layer_to_dict(layer), ensure_ascii=False))
    back = layer_from_dict(data, image)
    assert back == layer and back.trust == layer.trust  # level, reason, count; every char
    blind = layer_from_dict(data)  # no pixels: the same characters, no ink evidence
    assert blind == layer and blind.ink is None and back.ink is not None
    for box in t.boxes.values():
        assert back.text_in(box) == layer.text_in(box)
        assert back.share_in(box) == layer.share_in(box)


def test_data_of_another_version_or_torn_columns_is_refused() -> None:
    from langchain_dotsocr.textlayer import read_layer

    with opened(textpdfs.good().pdf) as (page, image):
        data = layer_to_dict(read_layer(page, image))
    with pytest.raises(ValueError, match="version 2"):
        layer_from_dict(data | {"version": 2})
    with pytest.raises(ValueError, match="columns"):
        layer_from_dict(data | {"flags": data["flags"][1:]})
