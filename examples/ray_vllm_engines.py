"""Recipe: dots.ocr engines inside a Ray cluster (Ray Data's vLLM engine processor), with the
package's renderer before and its answer-to-records step after.

    python examples/ray_vllm_engines.py s3://bucket/scans/ -o docs.jsonl --gpus 4

Needs a cluster with GPUs and ``pip install "ray[llm]" "langchain-dotsocr[ray]"`` (``ray[llm]``
pins its own vLLM; dots.ocr needs vLLM 0.11 or later). No server to run: each GPU runs an
engine. What you give up against servers (examples/ray_batch.py): the engine processor hands
back whole answers, so there is no streaming, no loop cut and no fallback; an incomplete answer
keeps the cells that were complete (``extraction="salvaged"``); and a PDF's text layer is not
used (``text_layer="off"``): every page's text is the model's.
"""

from __future__ import annotations

import argparse
import functools
from typing import Any

from langchain_dotsocr.export import write_jsonl
from langchain_dotsocr.identity import answer_key
from langchain_dotsocr.pages import Geometry
from langchain_dotsocr.ray_data import documents, engine_request, render_pages, result_of_answer
from langchain_dotsocr.settings import DotsOCRSettings

MODEL = "rednote-hilab/dots.ocr"
MAX_MODEL_LEN = 32768  # a 200-dpi page and the full output budget fit (see the README)
# text_layer="off": an engine answers each page in one pass, with the model's text (the text
# layer's path asks each table and formula again on its box; read_pages over servers does).
SETTINGS = DotsOCRSettings(
    model=MODEL, max_model_len=MAX_MODEL_LEN, on_error="mark", text_layer="off"
)


def preprocess(row: dict[str, Any]) -> dict[str, Any]:
    """A page row to the engine's input: the loader's messages and sampling parameters."""
    return row | engine_request(row, SETTINGS)


def postprocess(row: dict[str, Any]) -> dict[str, Any]:
    """The engine's answer to a result row, as the servers' path makes them."""
    return result_of_answer(row, row["generated_text"], SETTINGS, MODEL)


def unread(row: dict[str, Any]) -> dict[str, Any]:
    """A page that could not be rendered, as a result row (it never reaches an engine)."""
    return {k: v for k, v in row.items() if k != "image"} | {"result": None, "model": MODEL}


def main(argv: list[str] | None = None) -> int:
    import ray
    from ray.data.llm import (
        PrepareMultimodalStageConfig,
        build_processor,
        vLLMEngineProcessorConfig,
    )

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", help="files or folders, local or cloud")
    parser.add_argument("-o", "--output", required=True)
    parser.add_argument("--gpus", type=int, default=1, help="engines, one per GPU")
    args = parser.parse_args(argv)

    config = vLLMEngineProcessorConfig(
        model_source=MODEL,
        engine_kwargs={
            "trust_remote_code": True,
            "max_model_len": MAX_MODEL_LEN,
            "limit_mm_per_prompt": {"image": 1},
        },
        # The shipped chat template needs the content as a string (as the server's flag).
        prepare_multimodal_stage=PrepareMultimodalStageConfig(
            enabled=True, chat_template_content_format="string"
        ),
        batch_size=16,
        concurrency=args.gpus,
    )
    engine = build_processor(config, preprocess=preprocess, postprocess=postprocess)
    geometry = Geometry(dpi=SETTINGS.dpi)  # the full page fits MAX_MODEL_LEN
    # The answer key names the Documents (with each file's hash) as the loader would.
    answer = answer_key(SETTINGS, MODEL, geometry)
    render = functools.partial(render_pages, settings=SETTINGS, geometry=geometry, answer=answer)
    pages = ray.data.read_binary_files(args.paths, include_paths=True).flat_map(render)
    pages = pages.repartition(target_num_rows_per_block=16).materialize()
    read = engine(pages.filter(lambda r: r["error"] is None))
    failed = pages.filter(lambda r: r["error"] is not None).map(unread)
    with open(args.output, "w", encoding="utf-8") as out:
        write_jsonl(documents(read.union(failed), on_error="mark", model=MODEL), out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
