"""``GET /metrics`` as vLLM's Prometheus exporter writes it (the figures a client can use)."""

from __future__ import annotations

from dataclasses import dataclass, field

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
FINISHED_REASONS = ("stop", "length", "abort")


@dataclass
class Counters:
    """vLLM's counters since the server started."""

    prompt_tokens: int = 0
    generation_tokens: int = 0
    success: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FINISHED_REASONS, 0))


def exposition(model: str, running: int, waiting: int, kv_usage: float, counters: Counters) -> str:
    """The text of ``/metrics``: process metrics first, then vLLM's, labelled as vLLM does."""
    labels = f'engine="0",model_name="{model}"'
    lines = [
        "# HELP python_gc_objects_collected_total Objects collected during gc",
        "# TYPE python_gc_objects_collected_total counter",
        'python_gc_objects_collected_total{generation="0"} 1412.0',
        "# HELP process_open_fds Number of open file descriptors.",
        "# TYPE process_open_fds gauge",
        "process_open_fds 42.0",
    ]

    def metric(name: str, kind: str, help_: str, samples: list[tuple[str, float]]) -> None:
        lines.extend([f"# HELP {name} {help_}", f"# TYPE {name} {kind}"])
        lines.extend(f"{name}{{{lab}}} {value:.1f}" for lab, value in samples)

    metric("vllm:num_requests_running", "gauge",
           "Number of requests in model execution batches.", [(labels, running)])
    metric("vllm:num_requests_waiting", "gauge",
           "Number of requests waiting to be processed.", [(labels, waiting)])
    metric("vllm:kv_cache_usage_perc", "gauge",
           "KV-cache usage. 1 means 100 percent usage.", [(labels, kv_usage)])
    metric("vllm:prompt_tokens_total", "counter", "Number of prefill tokens processed.",
           [(labels, counters.prompt_tokens)])
    metric("vllm:generation_tokens_total", "counter", "Number of generation tokens processed.",
           [(labels, counters.generation_tokens)])
    metric("vllm:request_success_total", "counter", "Count of successfully processed requests.",
           [(f'engine="0",finished_reason="{r}",model_name="{model}"', n)
            for r, n in counters.success.items()])
    return "\n".join(lines) + "\n"
