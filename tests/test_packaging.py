"""Set-up files agree with each other: one list of dependencies, the torch pin, CI calls make test."""
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONDA_NAMES = {"torch": "pytorch"}  # PyPI name → conda-forge name


def _pypi_runtime():
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    return {re.split(r"[<>=!~\[ ;]", d, maxsplit=1)[0].lower() for d in deps}


def _conda_deps():
    import yaml

    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert env["channels"] == ["conda-forge"]
    deps = env["dependencies"]
    pip_section = [d["pip"] for d in deps if isinstance(d, dict)]
    assert pip_section == [["-e ."]], "conda users install the package itself with pip -e ."
    names = {re.split(r"[<>= ]", d, maxsplit=1)[0].lower() for d in deps if isinstance(d, str)}
    assert "python=3.11" in deps
    return names - {"python", "pip"}


def test_environment_yml_matches_pyproject():
    expected = {CONDA_NAMES.get(n, n) for n in _pypi_runtime()}
    assert _conda_deps() == expected


def test_design_card_dependencies_present():
    card = {"jupyterlab", "numpy", "scipy", "torch", "matplotlib", "seaborn", "ipywidgets", "papermill", "openai"}
    assert card <= _pypi_runtime()


def test_torch_is_pinned():
    assert "torch==2.13.0" in (ROOT / "constraints.txt").read_text().split()


def test_ci_calls_make_test_and_makefile_has_targets():
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    makefile = (ROOT / "Makefile").read_text()
    for target in ("reproduce:", "test:", "lab:", "bench:"):
        assert re.search(rf"^{target}", makefile, re.M), target
    assert "constraints.txt" in makefile and "-e \".[dev,llm]\"" in makefile
