"""The loop watcher: stops real loops early, leaves real pages alone."""

import json

from langchain_dotsocr.repetition import LoopDetector


def feed(detector, text, step=7):
    for i in range(0, len(text), step):
        reason = detector.feed(text[i : i + step])
        if reason:
            return reason, i + step
    return None, len(text)


def test_empty_table_rows_loop_is_stopped_early():
    head = '[{"bbox": [1, 2, 3, 4], "category": "Table", "text": "<table><tr><td>1</td><td></td></tr>'
    text = head + "<tr><td></td><td></td></tr>" * 5000
    reason, at = feed(LoopDetector(), text)
    assert reason and "loop" in reason
    assert at < 5000  # of 135,000 characters


def test_underscore_run_is_stopped():
    text = '[{"bbox": [1, 2, 3, 4], "category": "Text", "text": "Signature: ' + "_" * 20000
    reason, at = feed(LoopDetector(), text)
    assert reason and at < 3000


def test_creeping_cell_loop_is_stopped():
    cells = [
        json.dumps({"bbox": [188, 300 + 30 * i, 1500, 325 + 30 * i], "category": "Text", "text": "...."})
        for i in range(200)
    ]
    text = "[" + ", ".join(cells)
    reason, at = feed(LoopDetector(), text)
    assert reason and at < len(text) // 4


def test_identical_cell_repeated_is_stopped():
    cell = json.dumps({"bbox": [188, 300, 1500, 325], "category": "Text", "text": "Total"})
    reason, _ = feed(LoopDetector(), "[" + ", ".join([cell] * 50))
    assert reason and "same cell" in reason


def test_real_page_is_not_flagged():
    rows = "".join(f"<tr><td>{i}</td><td>{i * 3.5:.2f}</td></tr>" for i in range(300))
    cells = [{"bbox": [10, 10 + i, 50, 20 + i], "category": "Picture"} for i in range(30)]
    cells += [{"bbox": [1, 2, 3, 4], "category": "Table", "text": f"<table>{rows}</table>"}]
    cells += [{"bbox": [1, 2 + i, 3, 4 + i], "category": "Text", "text": f"Line {i} ....... {i}"} for i in range(100)]
    cells += [{"bbox": [1, 2, 3, 4], "category": "Text", "text": "Name: " + "_" * 80}]
    reason, _ = feed(LoopDetector(), json.dumps(cells))
    assert reason is None


def test_real_pages_with_repetition_are_not_flagged():
    """Ruled lines, label sheets, a row of zeros, a blank form: real pages, not loops."""
    ruled = [{"bbox": [100, 200 + 40 * i, 1500, 220 + 40 * i], "category": "Text", "text": "____"}
             for i in range(20)]
    labels = [{"bbox": [100 + 700 * (i % 2), 100 + 160 * (i // 2), 700 + 700 * (i % 2), 240 + 160 * (i // 2)],
               "category": "Text", "text": "ACME Ltd\n1 Main Street"} for i in range(30)]
    zeros = [{"bbox": [1, 2, 3, 4], "category": "Table",
              "text": "<table><tr>" + "<td>0</td>" * 60 + "</tr></table>"}]
    form = [{"bbox": [1, 2, 3, 4], "category": "Table",
             "text": "<table>" + "<tr><td></td><td></td></tr>" * 45 + "</table>"}]
    for cells in (ruled, labels, zeros, form):
        reason, _ = feed(LoopDetector(), json.dumps(cells))
        assert reason is None, reason
