"""The examples run as written against the vLLM double, and do what they say.

The notebook is committed with its outputs. To refresh them after a change (needs nbclient,
nbformat and ipykernel, which the test extra leaves out)::

    python -m tests.test_examples
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType


from langchain_dotsocr import DotsOCRLoader
from tests.fakevllm import Box, FakeVLLM, element_text, make_image, serve

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
NOTEBOOK = EXAMPLES / "notebook.ipynb"


def run_example(base_url: str, *argv: object, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, DOTSOCR_BASE_URL=base_url)
    return subprocess.run(
        [sys.executable, *map(str, argv)],
        capture_output=True, text=True, timeout=600, env=env, cwd=cwd,
    )


def load_example(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# -- rag_ingest.py ---------------------------------------------------------------------------


def test_rag_ingest_runs_as_written(base_url, pdf):
    done = run_example(base_url, "examples/rag_ingest.py", pdf, "--query", "the table")
    assert done.returncode == 0, done.stderr
    assert "page 0 bbox=" in done.stdout and element_text("Table", 0) in done.stdout
    assert "(2 tables whole)" in done.stdout


def test_rag_ingest_drops_furniture_splits_text_keeps_tables(base_url, pdf, monkeypatch):
    monkeypatch.setenv("DOTSOCR_BASE_URL", base_url)
    rag = load_example("rag_ingest")
    elements = rag.load_elements(str(pdf))
    categories = {e.metadata["category"] for e in elements}
    assert "Table" in categories and not categories & {"Page-header", "Page-footer"}

    chunks = rag.split(elements, chunk_size=8)
    tables = [c for c in chunks if c.metadata["category"] == "Table"]
    assert [t.page_content for t in tables] == [element_text("Table", 0)] * 2
    assert all(len(c.page_content) <= 8 for c in chunks if c.metadata["category"] != "Table")
    # "Text block 0." on page 0 is cut into pieces that keep its place and section.
    (text,) = [e for e in elements if e.page_content == "Text block 0." and e.metadata["page"] == 0]
    pieces = [c for c in chunks if c.metadata["page"] == 0
              and c.metadata["element_index"] == text.metadata["element_index"]]
    assert len(pieces) > 1 and " ".join(p.page_content for p in pieces) == "Text block 0."
    assert {tuple(p.metadata["bbox"]) for p in pieces} == {tuple(text.metadata["bbox"])}
    assert {p.metadata["section_path"] for p in pieces} == {"Title 0"}
    assert [p.id for p in pieces] == [f"{text.id}-{n}" for n in range(len(pieces))]

    store = rag.index(chunks)
    assert len(rag.index(chunks + chunks).store) == len(chunks)  # by id: no copies
    (found,) = rag.search(store, "anything", category="Table", page=1)
    assert found.metadata["page"] == 1 and found.page_content == element_text("Table", 0)
    on_page_0 = [c for c in chunks if c.metadata["category"] == "Text" and c.metadata["page"] == 0]
    found = rag.search(store, "block", category="Text", page=0, k=100)
    assert sorted(d.page_content for d in found) == sorted(c.page_content for c in on_page_0)


# -- multimodal_rag.py ------------------------------------------------------------------------


def test_multimodal_rag_returns_the_crop_of_the_figure_asked_for(base_url, fake, tmp_path):
    from PIL import Image

    from tests.fakevllm import detect, make_pdf
    from tests.fakevllm.figures import figures_page

    spec, fake.texts = figures_page()
    pdf = tmp_path / "figures.pdf"
    pdf.write_bytes(make_pdf([spec]))
    images = tmp_path / "crops"
    done = run_example(base_url, "examples/multimodal_rag.py", pdf, "--query",
                       "warehouse network", "--images", images)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "indexed 13 elements: 1 tables, 2 pictures, 10 others"
    path = Path(lines[2].split(": ", 1)[1])
    assert lines[2].startswith("figure for 'warehouse network': ") and path.parent == images
    assert "caption: 'Figure 2: The warehouse network.'" in lines[3]
    assert "description: 'A wide picture (" in lines[4]
    with Image.open(path) as crop:  # the crop shows the picture asked for, and only it
        assert [(e.category, e.n) for e in detect(crop.convert("RGB"))] == [("Picture", 2)]


def test_multimodal_rag_indexes_pictures_by_caption_and_description(base_url, fake, tmp_path, monkeypatch):
    from tests.fakevllm import make_pdf
    from tests.fakevllm.figures import figures_page

    spec, fake.texts = figures_page()
    pdf = tmp_path / "figures.pdf"
    pdf.write_bytes(make_pdf([spec]))
    monkeypatch.setenv("DOTSOCR_BASE_URL", base_url)
    rag = load_example("multimodal_rag")
    docs = rag.load(str(pdf), str(tmp_path / "crops"))
    store = rag.index(docs)
    figure = rag.find_figure(store, "revenue by region")
    assert figure.metadata["caption"] == "Figure 1: Revenue by region, 2021 to 2024."
    assert figure.page_content.startswith(figure.metadata["caption"] + "\n\nA wide picture")
    (table,) = store.similarity_search("North 120 South 80", k=1)  # the cells of the table
    assert table.metadata["category"] == "Table"


# -- async_batch.py --------------------------------------------------------------------------


def test_async_batch_resumes_from_its_cache(base_url, fake, tmp_path, pdf):
    folder = tmp_path / "batch"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.pdf").write_bytes(pdf.read_bytes())
    (folder / "sub" / "b.png").write_bytes(make_image(400, 500, [Box("Text", 1, 10, 10, 300, 60)]))
    (folder / "notes.txt").write_text("not a document")
    cache, out = tmp_path / "cache", tmp_path / "docs.jsonl"
    argv = ["examples/async_batch.py", folder, "--cache-dir", cache, "-o", out]

    first = run_example(base_url, *argv)
    assert first.returncode == 1  # notes.txt failed, named on stderr; the others were parsed
    assert f"failed: {folder / 'notes.txt'}" in first.stderr
    assert "dots.ocr" in first.stderr  # the progress bar
    a_pdf = f"{folder / 'a.pdf'}: 2 pages done"
    assert f"{a_pdf} (0 from the cache), 0 failed, 2 requests" in first.stdout
    assert len(fake.chat_requests) == 3
    written = [json.loads(line) for line in out.read_text().splitlines()]
    expected = DotsOCRLoader([folder / "a.pdf", folder / "sub" / "b.png"], base_url=base_url).load()
    assert [r["page_content"] for r in written if r["metadata"]["category"] != "Error"] == [
        d.page_content for d in expected
    ]

    sent = len(fake.chat_requests)
    second = run_example(base_url, *argv)
    assert second.returncode == 1 and len(fake.chat_requests) == sent
    assert f"{a_pdf} (2 from the cache), 0 failed, 0 requests" in second.stdout
    assert f"{folder / 'sub' / 'b.png'}: 1 pages done (1 from the cache)" in second.stdout


# -- notebook.ipynb --------------------------------------------------------------------------


def notebook() -> dict:
    return json.loads(NOTEBOOK.read_text())


def code_cells(nb: dict) -> list[dict]:
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


def test_notebook_is_committed_with_outputs_and_nothing_local():
    nb = notebook()
    cells = code_cells(nb)
    assert cells and all(c["outputs"] for c in cells)
    kinds = {kind for c in cells for o in c["outputs"] for kind in o.get("data", {"stream": 1})}
    assert {"text/html", "image/png", "stream"} <= kinds
    assert not [o for c in cells for o in c["outputs"] if o["output_type"] == "error"]
    text = NOTEBOOK.read_text()
    for local in ("127.0.0.1", "/tmp/", str(ROOT), "site-packages", "Traceback"):
        assert local not in text


def test_notebook_runs_and_its_outputs_are_current(base_url, tmp_path):
    # The notebook's display() calls go to a stand-in for IPython, which the test extra omits.
    stub = tmp_path / "stub" / "IPython"
    stub.mkdir(parents=True)
    (stub / "__init__.py").write_text("")
    (stub / "display.py").write_text(
        "import os\n"
        "class HTML:\n"
        "    def __init__(self, data):\n"
        "        self.data = data\n"
        "def display(*objs):\n"
        "    with open(os.environ['DISPLAY_LOG'], 'a') as log:\n"
        "        for obj in objs:\n"
        "            log.write(type(obj).__name__ + '\\n')\n"
    )
    script = tmp_path / "notebook.py"
    script.write_text("\n\n".join("".join(c["source"]) for c in code_cells(notebook())))
    log = tmp_path / "displayed.txt"
    env = dict(os.environ, DOTSOCR_BASE_URL=base_url, DISPLAY_LOG=str(log),
               PYTHONPATH=os.pathsep.join(filter(None, [str(stub.parent),
                                                        os.environ.get("PYTHONPATH")])))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=600, env=env, cwd=EXAMPLES)
    assert done.returncode == 0, done.stderr
    assert log.read_text().split() == ["HTML", "Image"]
    committed = "".join(
        "".join(o["text"])
        for c in code_cells(notebook())
        for o in c["outputs"]
        if o["output_type"] == "stream" and o["name"] == "stdout"
    )
    assert done.stdout == committed, "stale outputs: run python -m tests.test_examples"


def regenerate() -> None:
    """Execute the notebook against a fresh double and store its outputs (PNG images only)."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(NOTEBOOK, as_version=4)
    with serve(FakeVLLM()) as url:
        os.environ["DOTSOCR_BASE_URL"] = url
        NotebookClient(
            nb,
            timeout=600,
            kernel_name="python3",
            record_timing=False,
            resources={"metadata": {"path": str(EXAMPLES)}},
        ).execute()
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            output.get("data", {}).pop("image/jpeg", None)
    nb.metadata["language_info"] = {"name": "python"}
    nbformat.write(nb, NOTEBOOK)


if __name__ == "__main__":
    regenerate()
