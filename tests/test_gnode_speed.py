"""The fast paths of the expressivity fits compute exactly what they replace (bitwise, float32):
`rk4_fixed_grid` = `torchdiffeq.odeint(method='rk4')`, the packed ensemble field = the per-
evaluation formula it replaced, `_col_baddbmm` = `torch.baddbmm` (values and gradients). The QUICK
claims are calibrated on one optimisation; bitwise equality keeps their numbers unchanged."""
import pytest
import torch
from torchdiffeq import odeint

from analysis_lib.gnode import expressivity as E


def _grads(out, params, seed=0):
    g = torch.randn(out.shape, generator=torch.Generator().manual_seed(seed))
    return torch.autograd.grad(out, params, g)


@pytest.mark.parametrize("step", [0.1, 0.01, 0.03])  # 0.03 does not divide the grid: interpolated outputs
def test_rk4_fixed_grid_matches_torchdiffeq_bitwise(step):
    gen = torch.Generator().manual_seed(1)
    W = (0.8 * torch.randn(5, 5, generator=gen)).requires_grad_()
    b = (0.1 * torch.randn(5, generator=gen)).requires_grad_()
    y0 = torch.randn(7, 5, generator=gen).requires_grad_()
    t = torch.as_tensor(E.sample_times(), dtype=torch.float32)
    f = lambda y: torch.tanh(y @ W.T + b) - y  # noqa: E731
    ref = odeint(lambda _t, y: f(y), y0, t, method="rk4", options={"step_size": step})
    new = E.rk4_fixed_grid(f, y0, t, step)
    assert new.shape == ref.shape and torch.equal(new, ref)
    for a, c in zip(_grads(new, (W, b, y0)), _grads(ref, (W, b, y0))):
        assert torch.equal(a, c)


def _reference_trajectory(ens, t, step):
    """The ensemble's trajectory as computed before the packed field: every evaluation
    concatenates the first layer and the gate, reshapes, and multiplies m_N ⊙ z ⊙ (F − h)."""
    P, Wm = ens.W, ens.width_max

    def aff(W, b, a):
        return torch.baddbmm(b.unsqueeze(-1), W, a.unsqueeze(-1)).squeeze(-1)

    def field(_t, h):
        a0 = torch.baddbmm(torch.cat([P["b0"], P["bz"]], 1).unsqueeze(-1), torch.cat([P["W0"], P["Wz"]], 1),
                           h.unsqueeze(-1)).squeeze(-1)
        a = torch.relu(a0[:, :Wm])
        for k in range(1, ens.depth):
            a = torch.relu(aff(P[f"W{k}"], P[f"b{k}"], a))
        F = aff(P["W_out"], P["b_out"], a)
        z = torch.where(ens.gated > 0, torch.sigmoid(a0[:, Wm:]), 1.0)
        return ens.mN * z * (F - h)

    H = odeint(field, P["h0"] * ens.mN, t, method="rk4", options={"step_size": step})
    return torch.einsum("rdn,trn->rtd", P["C"], H) + P["c"][:, None, :]


@pytest.mark.parametrize("depth", [1, 2, 3])
def test_packed_ensemble_trajectory_is_bitwise_the_reference(depth):
    specs = [E.FitSpec("gnode", 2, 8, depth, seed=0), E.FitSpec("node", 3, 64, depth, seed=1),
             E.FitSpec("gnode", 3, 64, depth, seed=2), E.FitSpec("node", 2, 8, depth, seed=3)]
    ens = E.AutonomousEnsemble(specs)
    t = torch.as_tensor(E.sample_times(), dtype=torch.float32)
    params = list(ens.parameters())
    for step in (0.1, 0.01):
        new, ref = ens.trajectory(t, step), _reference_trajectory(ens, t, step)
        assert torch.equal(new, ref)
        for a, c in zip(_grads(new, params), _grads(ref, params)):
            assert torch.equal(a, c)
    h = torch.randn(len(specs), ens.N_max)
    with torch.no_grad():  # the public (R, N_max) field agrees with the column one used in trajectories
        assert torch.equal(ens.field(0.0, h), ens._field_col(h.unsqueeze(-1), ens._packed()).squeeze(-1))


def test_col_baddbmm_matches_baddbmm_bitwise():
    gen = torch.Generator().manual_seed(2)
    b, W, a = (torch.randn(s, generator=gen).requires_grad_() for s in ((6, 64, 1), (6, 64, 64), (6, 64, 1)))
    new, ref = E._col_baddbmm(b, W, a), torch.baddbmm(b, W, a)
    assert torch.equal(new, ref)
    for x, y in zip(_grads(new, (b, W, a)), _grads(ref, (b, W, a))):
        assert torch.equal(x, y)

