"""Spec §8 T2–T5, T7, T9, T10: cell algebra, parameter counts, init, optimiser, drift test,
re-integration, critical rescaling."""
import math

import numpy as np
import pytest
import torch

from analysis_lib.gnode import cells as C
from analysis_lib.gnode.slow_points import reintegrate, slow_fraction
from analysis_lib.gnode.training import TrainConfig, mse, train

sig = lambda a: 1 / (1 + np.exp(-a))  # noqa: E731


def _np(p):
    return p.detach().double().numpy()


def _inputs(N=3, d=2, B=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(B, N, generator=g, dtype=torch.float64), torch.randn(B, d, generator=g, dtype=torch.float64)


def _mlp_np(F, h, x):
    a = h @ _np(F.first.W).T + x @ _np(F.first.U).T + _np(F.first.b)
    for layer in F.rest:
        a = np.maximum(a, 0) @ _np(layer.W).T + _np(layer.b)
    return np.tanh(a) if F.out_act == "tanh" else a


@pytest.mark.parametrize("alpha", [1.0, 0.1])
def test_cells_match_numpy_reference(alpha):
    h, x = _inputs()
    hn, xn = h.numpy(), x.numpy()
    for kind in C.MODEL_KINDS:
        m = C.build_model(kind, 3, 2, hidden=(7, 5), alpha=alpha, seed=1).double()
        c = m.cell
        out = c.step(h, x).detach().numpy()
        if kind == "gru":
            z = sig(hn @ _np(c.Z.W).T + xn @ _np(c.Z.U).T + _np(c.Z.b))
            r = sig(hn @ _np(c.R.W).T + xn @ _np(c.R.U).T + _np(c.R.b))
            ht = np.tanh((r * hn) @ _np(c.Hh.W).T + xn @ _np(c.Hh.U).T + _np(c.Hh.b))
            ref = hn + alpha * z * (ht - hn)
        else:
            F = _mlp_np(c.F, hn, xn)
            z = sig(hn @ _np(c.Z.W).T + xn @ _np(c.Z.U).T + _np(c.Z.b)) if kind in ("gnode", "mgru") else 1.0
            ref = hn + alpha * z * (-hn + F)
        np.testing.assert_allclose(out, ref, atol=1e-10, err_msg=kind)
        # (h' − h)/α = field
        np.testing.assert_allclose((out - hn) / alpha, c.field(h, x).detach().numpy(), atol=1e-10)


def test_gate_limits_and_alpha_one():
    h, x = _inputs()
    g = C.build_model("gnode", 3, 2, hidden=(6,), seed=2).double().cell
    n = C.build_model("node", 3, 2, hidden=(6,), seed=3).double().cell
    n.F.load_state_dict(g.F.state_dict())
    with torch.no_grad():
        g.Z.W.zero_(); g.Z.U.zero_(); g.Z.b.fill_(40.0)
    np.testing.assert_allclose(g.step(h, x).detach(), n.step(h, x).detach(), atol=1e-10)
    # α = 1 nODE: h' = F(h, x)
    np.testing.assert_allclose(n.step(h, x).detach(), n.F(h, x).detach(), atol=1e-10)
    with torch.no_grad():
        g.Z.b.fill_(-40.0)
    np.testing.assert_allclose(g.step(h, x).detach(), h, atol=1e-10)
    # mGRU = gnODE whose F has no hidden layer and a tanh output
    mg = C.build_model("mgru", 3, 2, seed=4).double().cell
    gg = C.GNODECell(3, 2, (), 1.0, torch.Generator().manual_seed(0))
    gg.F = C.FlowMLP(3, 2, (), torch.Generator().manual_seed(0), "tanh")
    gg = gg.double()
    gg.F.load_state_dict(mg.F.state_dict()); gg.Z.load_state_dict(mg.Z.state_dict())
    np.testing.assert_allclose(gg.step(h, x).detach(), mg.step(h, x).detach(), atol=1e-10)


@pytest.mark.parametrize("kind,N,d,hidden,h0,count", [
    ("gnode", 6, 3, (100, 100, 100), "fixed", 21887), ("node", 6, 3, (100, 100, 100), "fixed", 21827),
    ("node", 100, 3, (100, 100, 100), "fixed", 41003), ("gnode", 100, 3, (100, 100, 100), "fixed", 51403),
    ("gru", 100, 3, (), "fixed", 31503), ("mgru", 100, 3, (), "fixed", 21103), ("rnn", 100, 3, (), "fixed", 10703),
    ("gru", 6, 3, (), "fixed", 201), ("mgru", 6, 3, (), "fixed", 141), ("rnn", 6, 3, (), "fixed", 81),
    ("gnode", 2, 2, (316, 316), "fixed", 102402), ("gnode", 2, 2, (316, 316), "affine", 102408),
    ("gnode", 2, 2, (64, 64), "affine", 4632), ("node", 2, 2, (64, 64), "affine", 4622),
    ("gru", 2, 2, (), "affine", 42), ("mgru", 2, 2, (), "affine", 32), ("rnn", 2, 2, (), "affine", 22)])
def test_param_counts(kind, N, d, hidden, h0, count):
    m = C.build_model(kind, N, d, hidden=hidden, h0_mode=h0)
    assert C.param_count(m) == count == C.param_count_formula(kind, N, d, hidden=hidden, h0_mode=h0)


def test_init_bounds_and_bias_scale():
    m = C.build_model("gnode", 6, 3, hidden=(100, 100, 100), seed=0)
    biases = []
    for name, p in m.named_parameters():
        if p.ndim == 2:
            fan_out, fan_in = p.shape
            bound = math.sqrt(6 / (fan_in + fan_out))
            assert p.abs().max() <= bound + 1e-7, name
            assert p.abs().max() > 0.8 * bound, name  # uniform on the full range, not a smaller one
        else:
            biases.append(p.detach())
    b = torch.cat(biases)
    assert 0.7e-3 < float(b.std()) < 1.3e-3
    m2 = C.build_model("gnode", 6, 3, hidden=(100, 100, 100), h0_mode="fixed", seed=0)
    assert m2.h0_fixed.shape == (6,)


def test_adamw_step_matches_formula():
    theta0 = torch.tensor([1.0, -2.0, 0.5])
    p = torch.nn.Parameter(theta0.clone())
    lr, decay = 1e-2, 0.1
    opt = torch.optim.AdamW([p], lr=lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=decay)
    loss = (p ** 2).sum()
    loss.backward()
    g = 2 * theta0
    opt.step()
    m_hat = (0.1 * g) / (1 - 0.9)
    v_hat = (0.001 * g ** 2) / (1 - 0.999)
    expected = theta0 - lr * (m_hat / (v_hat.sqrt() + 1e-8) + decay * theta0)
    np.testing.assert_allclose(p.detach(), expected, atol=1e-7)


class _HoldCell(torch.nn.Module):
    """z ≡ 0 at x = 0: the state never moves."""

    def __init__(self, N=2, d=2, scale=None):
        super().__init__()
        self.N, self.d, self.alpha, self.kind = N, d, 1.0, "test"
        self.scale = scale

    def field(self, h, x):
        return torch.zeros_like(h) if self.scale is None else (self.scale - 1) * h

    def gate(self, h, x):
        return torch.zeros_like(h)

    def step(self, h, x):
        return h + self.field(h, x)


def _identity_readout(model):
    with torch.no_grad():
        model.readout.W.copy_(torch.eye(2)); model.readout.b.zero_()
    return model


def test_drift_test_known_answers():
    hold = _identity_readout(C.FlipFlopModel(_HoldCell(), 2))
    assert slow_fraction(hold)["slow_frac"] == 1.0
    shrink = _identity_readout(C.FlipFlopModel(_HoldCell(scale=0.5), 2))
    res = slow_fraction(shrink)
    assert res["slow_frac"] <= 0.01 and abs(res["cond_C"] - 1) < 1e-6


def test_reintegration_euler_equals_training_recurrence():
    from analysis_lib.gnode.flipflop import make_flipflop

    x, _ = make_flipflop(2, 8, seed=0)
    for kind in ("gnode", "node"):
        m = C.build_model(kind, 2, 2, hidden=(16, 16), seed=5)
        with torch.no_grad():
            y_ref, _ = m(torch.as_tensor(x))
        y_e, _ = reintegrate(m, x, substeps=1, method="euler")
        np.testing.assert_allclose(y_e, y_ref.numpy(), atol=1e-6)
    # a fine rk4 of a slow (α small) model stays close to its Euler recurrence; off-by-one bins would not
    m = C.build_model("gnode", 2, 2, hidden=(16, 16), alpha=0.05, seed=5)
    with torch.no_grad():
        y_ref, _ = m(torch.as_tensor(x))
    y_rk, _ = reintegrate(m, x, substeps=10, method="rk4")
    assert np.abs(y_rk - y_ref.numpy()).max() < 2e-2


def test_critical_rescale_marginal():
    torch.manual_seed(0)
    m = C.build_model("gnode", 6, 3, hidden=(50, 50), h0_mode="fixed", seed=3)
    # zero biases make the relu activation pattern scale-invariant: η_after = 0 exactly
    with torch.no_grad():
        for name, p in m.cell.named_parameters():
            if p.ndim == 1:
                p.zero_()
            else:
                p.copy_(torch.randn_like(p) * 2 / math.sqrt(p.shape[1]))
    # at h̄ = 0 every relu pre-activation would be exactly 0 (J = −I): use a generic mean state
    sigma, before, after = C.critical_rescale(m, h_mean=torch.randn(6))
    assert before > 0 and abs(after) < 1e-4 and 0 < sigma < 1
    crit = C.build_model("gnode", 6, 3, hidden=(50, 50), h0_mode="fixed", seed=3, init="critical")
    assert crit is not None


def test_short_training_is_seeded_and_improves(tmp_path):
    from analysis_lib.gnode.flipflop import make_flipflop, splits

    x, y = make_flipflop(2, 60, seed=1)
    tr, va = splits(x, y, 40, 20)
    cfg = TrainConfig(epochs=3, lr=1e-2, weight_decay=0.1, batch_size=20, val_every="iter", checkpoint_every=1)
    runs = []
    for _ in range(2):
        m = C.build_model("mgru", 2, 2, seed=0)
        runs.append(train(m, tr, va, cfg, seed=0, progress=False))
    assert runs[0].val_loss == runs[1].val_loss
    assert len(runs[0].val_loss) == 1 + 3 * 2 and runs[0].best_val == min(runs[0].val_loss)
    assert runs[0].best_val < runs[0].val_loss[0]
    m = C.build_model("mgru", 2, 2, seed=0)
    m.load_state_dict(runs[0].best_state)
    assert abs(mse(m, *va) - runs[0].best_val) < 1e-6
    # resume: 2 epochs, then 3 from the checkpoint = 3 straight
    ck = tmp_path / "ck.pt"
    m = C.build_model("mgru", 2, 2, seed=0)
    train(m, tr, va, TrainConfig(**{**cfg.__dict__, "epochs": 2}), seed=0, checkpoint=ck, progress=False)
    m = C.build_model("mgru", 2, 2, seed=0)
    res = train(m, tr, va, cfg, seed=0, checkpoint=ck, progress=False)
    np.testing.assert_allclose(res.val_loss, runs[0].val_loss, rtol=1e-5)


@pytest.mark.parametrize("kwargs,match", [
    (dict(kind="lstm", N=2, d=2), "kind"), (dict(kind="gnode", N=0, d=2), "N"),
    (dict(kind="gnode", N=2, d=2, alpha=0.0), "alpha"), (dict(kind="gnode", N=2, d=2, alpha=1.5), "alpha"),
    (dict(kind="gnode", N=2, d=2, h0_mode="learned"), "h0_mode"), (dict(kind="node", N=2, d=2, hidden=(4, -1)), "hidden"),
    (dict(kind="gru", N=2, d=2, init="critical"), "critical")])
def test_bad_model_inputs(kwargs, match):
    with pytest.raises(ValueError, match=match):
        C.build_model(**kwargs)
    with pytest.raises(ValueError, match="val_every"):
        TrainConfig(val_every="step")
