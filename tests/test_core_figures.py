import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pytest

import analysis_lib as al


@pytest.fixture
def fig():
    f, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    yield f
    plt.close(f)


def test_quick_figures_never_touch_committed_ones(tmp_path, monkeypatch, fig):
    monkeypatch.setenv("ANALYSIS_LIB_ROOT", str(tmp_path))
    al.setup_notebook("quick", 0, notebook="01_demo")
    paths = al.savefig(fig, "spectrum")
    assert paths == [tmp_path / "reports" / "quick" / "figures" / "01_demo" / "spectrum.png"]
    assert paths[0].stat().st_size > 0
    assert not (tmp_path / "figures").exists()


def test_full_figures_are_png_and_pdf(tmp_path, monkeypatch, fig):
    monkeypatch.setenv("ANALYSIS_LIB_ROOT", str(tmp_path))
    al.setup_notebook("full", 0, notebook="01_demo")
    paths = al.savefig(fig, "spectrum")
    folder = tmp_path / "figures" / "01_demo"
    assert paths == [folder / "spectrum.png", folder / "spectrum.pdf"]
    assert all(p.exists() for p in paths)


def test_notebook_from_runner_environment(tmp_path, monkeypatch, fig):
    monkeypatch.setenv("ANALYSIS_LIB_ROOT", str(tmp_path))
    monkeypatch.setenv("ANALYSIS_LIB_NOTEBOOK", "03_gated_neural_odes")
    al.setup_notebook("quick", 0)
    assert al.savefig(fig, "f")[0].parent.name == "03_gated_neural_odes"


@pytest.mark.parametrize("name", ["", "a/b", "../x", None])
def test_bad_figure_name(name, fig):
    with pytest.raises(ValueError, match="figure name must be"):
        al.savefig(fig, name)
