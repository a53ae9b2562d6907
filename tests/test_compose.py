"""docker-compose-vllm.yml: parsed, and its flags checked against the package's arithmetic."""

import re
from pathlib import Path

import yaml

from langchain_dotsocr import required_context

COMPOSE = Path(__file__).resolve().parent.parent / "docker-compose-vllm.yml"


def service():
    return yaml.safe_load(COMPOSE.read_text())["services"]["dotsocr"]


def flag(command, name):
    return command[command.index(name) + 1]


def interpolate(value, env):
    """Compose's ``${NAME:-default}``: the variable when set and not empty, else the default."""
    return re.sub(
        r"\$\{(\w+):-([^}]*)\}", lambda m: env.get(m.group(1)) or m.group(2), str(value)
    )


def test_image_is_vllm_pinned_at_0_11_or_later():
    image = service()["image"]
    m = re.fullmatch(r"vllm/vllm-openai:v(\d+)\.(\d+)\.(\d+)", image)
    assert m, image
    assert tuple(map(int, m.groups())) >= (0, 11, 0)


def test_serving_flags():
    svc = service()
    cmd = [str(c) for c in svc["command"]]
    assert svc["entrypoint"] == ["vllm", "serve"]
    assert interpolate(cmd[0], {}) == "rednote-hilab/dots.ocr"
    assert "--trust-remote-code" in cmd
    assert flag(cmd, "--chat-template-content-format") == "string"
    assert flag(cmd, "--port") == "8000"
    assert "8000:8000" in svc["ports"]


def test_max_model_len_fits_a_200_dpi_page_with_the_default_budget():
    cmd = [str(c) for c in service()["command"]]
    limit = int(flag(cmd, "--max-model-len"))
    letter = required_context(1700, 2200)  # 8.5 x 11 in at 200 dpi
    a4 = required_context(1654, 2339)  # 210 x 297 mm at 200 dpi
    assert limit >= max(letter, a4)
    assert 4096 < letter  # why the field report's server failed


def test_gpu_health_and_cache():
    svc = service()
    devices = svc["deploy"]["resources"]["reservations"]["devices"]
    assert devices[0]["driver"] == "nvidia" and "gpu" in devices[0]["capabilities"]
    assert any("/health" in str(part) for part in svc["healthcheck"]["test"])
    assert any(v.endswith(":/root/.cache/huggingface") for v in svc["volumes"])


def test_the_model_comes_from_dotsocr_model():
    model = service()["command"][0]
    assert interpolate(model, {"DOTSOCR_MODEL": ""}) == "rednote-hilab/dots.ocr"
    for name in ("rednote-hilab/dots.mocr", "dots-studio/dots.ocr", "/models/dots"):
        assert interpolate(model, {"DOTSOCR_MODEL": name}) == name


def test_data_parallel_variant_keeps_every_flag_and_adds_one_engine_per_gpu():
    base = [str(c) for c in service()["command"]]
    variant = yaml.safe_load((COMPOSE.parent / "docker-compose-vllm-dp.yml").read_text())
    svc = variant["services"]["dotsocr"]
    cmd = [str(c) for c in svc["command"]]
    assert flag(cmd, "--data-parallel-size") == "${DP:-2}"
    i = cmd.index("--data-parallel-size")
    assert cmd[:i] + cmd[i + 2 :] == base  # the same server otherwise
    assert svc["deploy"]["resources"]["reservations"]["devices"][0]["count"] == "all"
