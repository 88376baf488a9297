"""al.interact: ipywidgets.interact in JupyterLab, one static default view in headless runs."""
import pytest

import analysis_lib as al
from analysis_lib import explore


def test_headless_calls_once_with_the_widget_defaults(monkeypatch, capsys):
    import ipywidgets as W

    monkeypatch.setenv(explore.HEADLESS_ENV, "1")
    seen = []

    def view(model="gnode", x=0.0, K=2, n=5, pick="a", w=None):
        seen.append(dict(model=model, x=x, K=K, n=n, pick=pick, w=w))

    assert al.interact(view, model=["node", "gnode"], x=(-1.0, 1.0, 0.1), K=(1, 10), n=(0, 10), pick=["b", "c"],
                       w=W.IntSlider(value=7, min=0, max=9)) is None
    # function defaults win (as in ipywidgets); without one: middle of a range, first option
    assert seen == [dict(model="gnode", x=0.0, K=2, n=5, pick="a", w=7)]
    seen.clear()

    def bare(K, x, opt):
        seen.append((K, x, opt))

    al.interact(bare, K=(1, 10), x=(-1.0, 1.0), opt=[("one", 1), ("two", 2)])
    assert seen == [(6, 0.0, 1)] and "headless run" in capsys.readouterr().out
    with pytest.raises(ValueError, match=r"controls \['nope'\] are not parameters"):
        al.interact(bare, nope=(0, 1))


def test_interactive_session_uses_ipywidgets(monkeypatch):
    monkeypatch.delenv(explore.HEADLESS_ENV, raising=False)
    calls = []
    w = al.interact(lambda K=3: calls.append(K), K=(1, 10))
    assert calls == [3] and hasattr(w, "widget")  # ipywidgets' interact returns the decorated function
    with pytest.raises(ValueError, match="fn must be callable"):
        al.interact(42)
