"""FULL-cache plumbing of notebook 03: resumable expressivity fits, the layout choice of the FULL
expressivity grid, provenance records and the `python -m analysis_lib.gnode.precompute` CLI."""
import numpy as np
import pytest
import torch

import analysis_lib.gnode as gn
from analysis_lib.gnode import precompute


def _tiny_fit(**kw):
    specs = [gn.FitSpec("gnode", 2, 8, 1, 0), gn.FitSpec("node", 3, 8, 1, 1)]
    targets = np.stack([gn.fourier_target(2, 0), gn.figure_eight()])
    return gn.fit_ensemble(specs, targets, steps=6, progress=False, **kw)


def test_fit_ensemble_resumes_from_checkpoint(tmp_path):
    torch.set_num_threads(1)
    straight = _tiny_fit()
    ck = tmp_path / "fit.ckpt.pt"
    first = _tiny_fit(checkpoint=ck, checkpoint_every=2)
    assert ck.exists() and torch.load(ck, weights_only=False)["step"] == 4
    resumed = _tiny_fit(checkpoint=ck, checkpoint_every=2)  # continues from step 4
    for out in (first, resumed):
        np.testing.assert_allclose(out["best_loss"], straight["best_loss"], rtol=1e-6)
        np.testing.assert_allclose(out["r2_fine"], straight["r2_fine"], rtol=1e-6)
    assert resumed["loss"].shape == straight["loss"].shape
    with pytest.raises(ValueError, match="checkpoint .* is for R=2, steps=6"):
        gn.fit_ensemble([gn.FitSpec("gnode", 2, 8, 1, 0)], gn.figure_eight()[None], steps=6, progress=False,
                        checkpoint=ck)
    with pytest.raises(ValueError, match="checkpoint_every"):
        _tiny_fit(checkpoint_every=0)


def _fake_fit(calls):
    """A stand-in for `fit_ensemble` (instant): R² = width / 1000 per replicate; records each call."""
    def fit(specs, targets, steps=200, **kw):
        calls.append((len(specs), steps, kw.get("checkpoint")))
        r2 = np.array([s.width / 1000.0 for s in specs])
        return {"r2_train": r2, "r2_fine": r2, "failed": np.zeros(len(specs), bool)}
    return fit


def test_full_expressivity_uses_cached_gpu_layout(tmp_path, monkeypatch):
    """A cache holding every 'gpu' ensemble (e.g. made on a GPU machine) is used without fitting; its
    stored grid labels must equal the requested grid's, else it is not used."""
    from analysis_lib import _cache
    from analysis_lib.gnode import experiments, expressivity

    calls = []
    monkeypatch.setattr(expressivity, "fit_ensemble", _fake_fit(calls))
    made = gn.full_expressivity(cache_dir=tmp_path, seeds=(0,), depths=(2,), layout="gpu", progress=False)
    assert len(calls) == 1 and calls[0][1] == 2000 and str(calls[0][2]).endswith(".ckpt.pt")
    assert not list(tmp_path.glob("*.ckpt.pt"))  # the resume point goes once the result is cached
    res = gn.full_expressivity(cache_dir=tmp_path, seeds=(0,), depths=(2,), progress=False)  # layout=None
    assert len(calls) == 1  # read back, not refitted
    _, _, labels = gn.full_grid(widths=(8, 32, 128), Ks=tuple(range(1, 11)), seeds=(0,), depths=(2,))[0]
    n = 3 * len(labels)  # the three widths of depth 2 merged into one ensemble
    assert res["layout"] == "gpu" and res["widths"] == (8, 32, 128) and res["steps"] == 2000
    assert len(res["labels"]) == n and res["labels"] == made["labels"]
    np.testing.assert_array_equal(res["r2_fine"], [lab["width"] / 1000.0 for lab in res["labels"]])
    assert res["provenance"][0]["device"] == "cpu" and res["provenance"][0]["ensemble"] == "expr_full_d2_all_2000"
    # a stored entry whose grid labels differ from the requested grid is not served
    (path,) = tmp_path.glob("full_ensemble-*.pkl")
    entry = _cache.load_pickle(path)
    entry["labels"][0]["K"] = 99
    _cache.dump_pickle(path, entry)
    params, lab = experiments._expr_ensembles("gpu", None, (0,), (2,))[3][0]
    assert not _cache.is_cached(experiments.full_ensemble, params, cache_dir=tmp_path, labels=lab)
    assert gn.full_expressivity(cache_dir=tmp_path, seeds=(0,), depths=(2,), progress=False)["layout"] == "cpu"
    assert len(calls) == 1 + 3  # no valid 'gpu' entry: the CPU grid is fitted (one ensemble per width)
    gn.full_expressivity(cache_dir=tmp_path, seeds=(0,), depths=(2,), layout="gpu", progress=False)
    assert len(calls) == 5  # the 'gpu' ensemble is recomputed and overwritten
    assert _cache.is_cached(experiments.full_ensemble, params, cache_dir=tmp_path, labels=lab)


def test_full_expressivity_cpu_layout_is_the_spec_cpu_grid(tmp_path, monkeypatch):
    """Without a GPU, FULL fits spec §9's CPU grid: every width of §4.4 (8, 32, 128), K ∈ {1,2,3,4,6,8,10},
    1000 steps, one cached ensemble per (depth, width); the same grid hits, other seeds recompute."""
    from analysis_lib.gnode import expressivity

    calls = []
    monkeypatch.setattr(expressivity, "fit_ensemble", _fake_fit(calls))
    Ks = (1, 2, 3, 4, 6, 8, 10)
    res = gn.full_expressivity(cache_dir=tmp_path, seeds=(0,), depths=(1,), progress=False)
    assert len(calls) == 3 and {c[1] for c in calls} == {1000}
    assert res["layout"] == "cpu" and res["widths"] == (8, 32, 128) and res["Ks"] == Ks and res["steps"] == 1000
    widths = np.array([lab["width"] for lab in res["labels"]])
    np.testing.assert_array_equal(res["r2_fine"], widths / 1000.0)  # each width from its own ensemble
    assert {lab["target"] for lab in res["labels"]} == {f"K{k}" for k in Ks} | {"fig8"}
    again = gn.full_expressivity(cache_dir=tmp_path, seeds=(0,), depths=(1,), progress=False)
    assert len(calls) == 3 and again["labels"] == res["labels"]  # same inputs: three hits
    gn.full_expressivity(cache_dir=tmp_path, seeds=(1,), depths=(1,), progress=False)
    assert len(calls) == 6  # another seed: other targets and initialisations, recomputed


def _tiny_run(**kw):
    cfg = gn.TrainConfig(epochs=2, lr=1e-2, weight_decay=0.1, batch_size=20, val_every="iter")
    return gn.FlipFlopRun("gnode", 2, hidden=(8,), n_trials=60, n_train=40, n_val=20, n_test=10, config=cfg, **kw)


def test_flipflop_cache_hits_same_run_and_recomputes_a_changed_one(tmp_path, monkeypatch):
    """The flip-flop cache is keyed by every field of the run (seeds included) and the code: the same
    run is read back, a changed seed or learning rate is trained anew; the device is not in the key."""
    from dataclasses import replace

    from analysis_lib.gnode import training

    torch.set_num_threads(1)
    calls = []
    real_train = training.train
    monkeypatch.setattr(training, "train", lambda *a, **k: calls.append(1) or real_train(*a, **k))
    run = _tiny_run()
    first = gn.run_flipflop(run, cache_dir=tmp_path)
    again = gn.run_flipflop(run, device="cpu", cache_dir=tmp_path, progress=True)
    assert len(calls) == 1 and again["result"].val_loss == first["result"].val_loss
    assert [p.name.split("-")[0] for p in tmp_path.iterdir()] == ["fit_flipflop"]
    other_seed = gn.run_flipflop(replace(run, model_seed=1), cache_dir=tmp_path)
    assert len(calls) == 2 and other_seed["result"].val_loss != first["result"].val_loss
    gn.run_flipflop(replace(run, config=replace(run.config, lr=3e-3)), cache_dir=tmp_path)
    assert len(calls) == 3 and len(list(tmp_path.glob("fit_flipflop-*.pkl"))) == 3
    gn.run_flipflop(run, cache_dir=tmp_path)
    assert len(calls) == 3


def test_interrupted_flipflop_run_resumes_from_its_keyed_checkpoint(tmp_path):
    """A run cut short leaves `cache_file(..., '.ckpt.pt')` of its own key; the next call resumes it
    and ends where an uninterrupted run ends, then removes the checkpoint."""
    from dataclasses import replace

    from analysis_lib._cache import cache_file
    from analysis_lib.gnode.training import fit_flipflop, run_flipflop, train

    torch.set_num_threads(1)
    run = _tiny_run()
    straight = run_flipflop(run)  # uncached
    ckpt = cache_file(tmp_path, fit_flipflop, {"run": run}, suffix=".ckpt.pt")
    x, y = gn.make_flipflop(run.n_bits, run.n_trials, run.variant, seed=run.data_seed)
    tr, va = gn.splits(x, y, run.n_train, run.n_val)
    model = gn.build_model(run.kind, run.N, run.n_bits, hidden=run.hidden, h0_mode=run.h0_mode, seed=run.model_seed)
    train(model, tr, va, replace(run.config, epochs=1), seed=run.model_seed, checkpoint=ckpt, progress=False)
    assert ckpt.exists()  # the state after epoch 1 of 2, as an interruption leaves it
    resumed = run_flipflop(run, cache_dir=tmp_path)
    assert resumed["result"].epochs_done == 2 and not ckpt.exists()
    np.testing.assert_allclose(resumed["result"].val_loss, straight["result"].val_loss, rtol=1e-6)
    assert resumed["val_mse"] == pytest.approx(straight["val_mse"], rel=1e-6)


def test_full_expressivity_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="layout must be one of"):
        gn.full_expressivity(cache_dir=tmp_path, layout="tpu")
    with pytest.raises(ValueError, match="depths must be a non-empty subset"):
        gn.full_expressivity(cache_dir=tmp_path, depths=(4,))


def test_full_training_runs_are_the_notebook_runs_longest_first():
    runs = precompute.full_training_runs(0)
    nb = gn.ff2_runs("full", 0) + gn.ff3v_runs(0) + gn.ff3f_runs(0) + gn.init_ablation_runs(0) + gn.ff2v_runs(0)
    assert sorted(map(repr, runs)) == sorted(map(repr, nb))  # same runs ⇒ same cache keys
    epochs = [r.config.epochs for r in runs]
    assert epochs == sorted(epochs, reverse=True)


def test_provenance_summary():
    outs = [{"provenance": {"device": "cpu (16 cores seen)", "torch": "2.11.0"}}] * 2 + [{}]
    assert gn.provenance_summary(outs) == "2 × cpu (16 cores seen), torch 2.11.0; 1 × unrecorded, torch ?"


@pytest.mark.parametrize("argv, msg", [(["--what", "nothing"], "--what"), (["--depths", "5"], "--depths"),
                                        (["--depths", "a"], "--depths"), (["--workers", "0"], "--workers")])
def test_precompute_cli_rejects_bad_arguments(argv, msg, capsys):
    with pytest.raises(SystemExit) as e:
        precompute.main(argv + ["--cache-dir", "/nonexistent-never-created"])
    assert e.value.code == 2 and msg in capsys.readouterr().err
