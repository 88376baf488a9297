import random

import numpy as np
import pytest
import torch

import analysis_lib as al
from analysis_lib.notebook import validate_mode, validate_seed


@pytest.mark.parametrize("mode", ["quick", "full", "QUICK"])
def test_valid_modes(mode):
    assert validate_mode(mode) == mode.lower()


@pytest.mark.parametrize("mode", ["bogus", "", None, 1, "quick "])
def test_unknown_mode_names_allowed_values(mode):
    with pytest.raises(ValueError, match="'quick', 'full'"):
        al.setup_notebook(mode, 0)


@pytest.mark.parametrize("seed", [-1, 2**32, 1.5, "0", True, None])
def test_bad_seed_is_rejected(seed):
    with pytest.raises(ValueError, match=r"SEED must be an integer in \[0, 2\*\*32 - 1\]"):
        validate_seed(seed)


def test_setup_returns_sizes_and_seeds_everything():
    cfg = al.setup_notebook("quick", 7, notebook="demo")
    assert (cfg.mode, cfg.seed, cfg.notebook, cfg.device) == ("quick", 7, "demo", "cpu")
    assert cfg.quick and not cfg.full
    assert cfg.pick(quick=10, full=1000) == 10
    first = (random.random(), np.random.rand(), torch.rand(1).item(), cfg.rng(1).random())
    cfg2 = al.setup_notebook("quick", 7, notebook="demo")
    second = (random.random(), np.random.rand(), torch.rand(1).item(), cfg2.rng(1).random())
    assert first == second
    al.setup_notebook("quick", 8, notebook="demo")
    assert np.random.rand() != first[1]


def test_full_mode_picks_full_sizes_and_figure_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("ANALYSIS_LIB_ROOT", str(tmp_path))
    cfg = al.setup_notebook("full", 0, notebook="demo")
    assert cfg.pick(quick=10, full=1000) == 1000
    assert cfg.figure_dir == tmp_path / "figures" / "demo"


def test_threads_are_limited():
    from threadpoolctl import threadpool_info

    al.setup_notebook("quick", 0, threads=1)
    assert torch.get_num_threads() == 1
    assert all(pool["num_threads"] == 1 for pool in threadpool_info())
    with pytest.raises(ValueError, match="threads must be a positive integer"):
        al.setup_notebook("quick", 0, threads=0)


def test_notebook_name_comes_from_runner_env(monkeypatch):
    monkeypatch.setenv("ANALYSIS_LIB_NOTEBOOK", "01_gru_lstm_slow_modes")
    assert al.setup_notebook("quick", 0).notebook == "01_gru_lstm_slow_modes"
    monkeypatch.delenv("ANALYSIS_LIB_NOTEBOOK")
    monkeypatch.setenv("JPY_SESSION_NAME", "/home/u/notebooks/02_gating_theory.ipynb")
    assert al.setup_notebook("quick", 0).notebook == "02_gating_theory"
    monkeypatch.delenv("JPY_SESSION_NAME")
    assert al.setup_notebook("quick", 0).notebook == "scratch"
    with pytest.raises(ValueError, match="notebook must be"):
        al.setup_notebook("quick", 0, notebook="no spaces allowed")
