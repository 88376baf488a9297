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


def test_full_expressivity_uses_cached_gpu_layout(tmp_path):
    """A cache holding every 'gpu' ensemble (e.g. made on a GPU machine) is used without fitting."""
    specs, _, labels = gn.full_grid(widths=(8, 32, 128), Ks=tuple(range(1, 11)), seeds=(0,), depths=(2,))[0]
    n = 3 * len(labels)  # the three widths of depth 2 merged into one ensemble
    np.savez(tmp_path / "expr_full_d2_all_2000.npz", r2_train=np.full(n, 0.5), r2_fine=np.full(n, 0.4),
             failed=np.zeros(n, bool), device=np.array("NVIDIA H200"), torch=np.array("2.11.0"), wall_s=np.array(1.0))
    res = gn.full_expressivity(cache_dir=tmp_path, seeds=(0,), depths=(2,), progress=False)
    assert res["layout"] == "gpu" and res["widths"] == (8, 32, 128) and res["steps"] == 2000
    assert len(res["labels"]) == n and np.all(res["r2_fine"] == 0.4)
    assert res["provenance"][0]["device"] == "NVIDIA H200"


def test_full_expressivity_cpu_layout_is_the_spec_cpu_grid(tmp_path):
    """Without a GPU, FULL fits spec §9's CPU grid: every width of §4.4 (8, 32, 128), K ∈ {1,2,3,4,6,8,10},
    1000 steps, one cached ensemble per (depth, width)."""
    Ks = (1, 2, 3, 4, 6, 8, 10)
    for w in (8, 32, 128):
        _, _, labels = gn.full_grid(widths=(w,), Ks=Ks, seeds=(0,), depths=(1,))[0]
        np.savez(tmp_path / f"expr_full_d1_w{w}_1000.npz", r2_train=np.full(len(labels), w / 1000.0),
                 r2_fine=np.full(len(labels), w / 1000.0), failed=np.zeros(len(labels), bool),
                 device=np.array("cpu"), torch=np.array("2.13.0"), wall_s=np.array(1.0))
    res = gn.full_expressivity(cache_dir=tmp_path, seeds=(0,), depths=(1,), progress=False)
    assert res["layout"] == "cpu" and res["widths"] == (8, 32, 128) and res["Ks"] == Ks and res["steps"] == 1000
    widths = np.array([lab["width"] for lab in res["labels"]])
    np.testing.assert_array_equal(res["r2_fine"], widths / 1000.0)  # each width read from its own file
    assert {lab["target"] for lab in res["labels"]} == {f"K{k}" for k in Ks} | {"fig8"}


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
