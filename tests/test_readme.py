"""The README's set-up commands stay true."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def bash_blocks():
    return re.findall(r"```bash\n(.*?)```", README, re.S)


def test_exactly_two_setup_commands():
    setup = README.split("## Set up", 1)[1].split("\n## ", 1)[0]
    assert len(re.findall(r"```bash\n", setup)) == 2


def test_ci_runs_the_readme_test_command():
    test_command = bash_blocks()[1].strip()
    assert 'pip install -e ".[test]"' in test_command
    runner = test_command.rsplit("&&", 1)[1].strip()
    assert runner in (ROOT / ".ci" / "run").read_text()


def test_main_command_uses_files_that_exist():
    main = bash_blocks()[0]
    assert "docker-compose-vllm.yml" in main and (ROOT / "docker-compose-vllm.yml").exists()
    script = re.search(r"python (\S+\.py)", main).group(1)
    assert (ROOT / script).exists()


def test_every_setting_is_in_the_settings_table():
    from langchain_dotsocr import DotsOCRSettings

    table = README.split("## Settings", 1)[1].split("\n## ", 1)[0]
    for name in DotsOCRSettings.model_fields:
        assert f"`{name}`" in table, name
