"""Run the vLLM double in its own process (so its CPU does not count as the client's).

    python benchmarks/fake_server.py [SLOTS PREFILL DECODE [nometrics]]

Prints its base URL on the first line of stdout; when stdin closes, prints one JSON line of
what it saw and exits. ``nometrics`` hides GET /metrics (404). Used by throughput.py and
scale_out.py.
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.fakevllm import FakeVLLM, LatencyModel, RecordedRequest, answer_tokens, serve


def record(r: RecordedRequest) -> dict[str, object]:
    """What a benchmark needs of one request: tokens in, cached, out, and how it ended."""
    return {
        "mode": r.prompt_mode,
        "page": r.page,
        "status": r.status,
        "image": r.image_size,
        "prompt_tokens": r.prompt_tokens,
        "cached_tokens": r.cached_tokens,
        "completion_tokens": answer_tokens(r.sent_chars),
        "finish": r.finish_reason,
        "cut": r.disconnected,
        "started": r.started_at,
        "finished": r.finished_at,
        "received": r.received_at,
    }


def main() -> None:
    slots, prefill, decode = (float(a) for a in sys.argv[1:4]) if len(sys.argv) > 3 else (0, 0, 0)
    latency = LatencyModel(int(slots), prefill, decode) if slots else None
    fake = FakeVLLM(latency=latency, metrics="nometrics" not in sys.argv[4:])
    with serve(fake) as url:
        print(url, flush=True)
        sys.stdin.read()
        chat = [r for r in fake.chat_requests if r.status == 200]
        print(
            json.dumps(
                {
                    "requests": len(chat),
                    "prompt_tokens": statistics.mean(r.prompt_tokens or 0 for r in chat)
                    if chat
                    else 0,
                    "completion_tokens": statistics.mean(r.completion_tokens or 0 for r in chat)
                    if chat
                    else 0,
                    "max_concurrency": fake.max_concurrency,
                    "max_waiting": fake.max_waiting,
                    "records": [record(r) for r in fake.chat_requests],
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
