"""Speed checks for analysis_lib.gating (issue 3, item 4); targets and baselines timed in the same run.

    .venv/bin/python benchmarks/bench_gating.py [--quick]

1. ρ(T(λ)) on a 400×400 λ-grid for N = 1000 units: ≤ 2 s, and ≥ 20× faster than a plain per-λ
   Python loop over the same formula (the loop is timed on a subset of grid rows and scaled per λ).
2. Jacobian eigenvalues at N = 1000 through the library (`gating.eigvals`) ≤ 1.15× a bare
   `scipy.linalg.eigvals` on the same matrix.
3. One Explore-widget redraw at N = 200 (simulate, Jacobian, eigenvalues, ρ(T) curve, draw) ≤ 0.5 s.
Prints one line per target and exits 1 if any target fails. Single-threaded (BLAS limited to 1).
"""
from __future__ import annotations

import argparse
import sys
import time

import numpy as np
from _timing import best_of


def _best(fn, repeats: int) -> float:
    return best_of(fn, repeats)[0]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repeats and a smaller eigenvalue problem")
    args = ap.parse_args(argv)

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from scipy.linalg import eigvals as scipy_eigvals

    from analysis_lib import limit_threads
    from analysis_lib import gating as gt
    from analysis_lib.gating.gru import explore

    limit_threads(1)
    ok = True

    # 1. ρ(T) on a grid ------------------------------------------------------------------
    N, n = 1000, 400
    model = gt.gated_rnn("cho", gt.ChoGRUParams(s_h=3, s_z=4, s_r=2, b_z=-2), N, 0)
    stats = model.diag_stats(model.simulate(model.random_state(1), 300))
    re = np.linspace(-1.2, 1.6, n) + 1.234e-4
    im = np.linspace(-1.4, 1.4, n) + 2.345e-4
    gt.rho_T_grid(re[:8], im[:2], stats)  # warm-up
    t_grid = _best(lambda: gt.rho_T_grid(re, im, stats), 1 if args.quick else 3)
    rows = 2 if args.quick else 8
    t_loop = _best(lambda: gt.rho_T_loop(re, im[:rows], stats), 1) * (n / rows)
    t_loop_cf = _best(lambda: gt.rho_T_loop(re, im[:rows], stats, closed_form=True), 1) * (n / rows)
    ref = gt.rho_T_loop(re[:50], im[:2], stats)
    agree = np.allclose(gt.rho_T_grid(re[:50], im[:2], stats), ref, rtol=1e-10)
    pass_time = t_grid <= 2.0
    ratio = t_loop / t_grid
    print(f"rho_T_grid_400x400_N1000_time: {t_grid:.2f} s (need <= 2 s) {'PASS' if pass_time else 'FAIL'}")
    print(f"rho_T_grid_vs_per_lambda_loop: ratio {ratio:.1f}x (need >= 20x; loop {t_loop:.1f} s est. from {rows} rows, "
          f"results agree: {agree}) {'PASS' if ratio >= 20 and agree else 'FAIL'}")
    print(f"  info: vs a loop with the closed-form Perron root: ratio {t_loop_cf / t_grid:.1f}x")
    ok &= pass_time and ratio >= 20 and agree

    # 2. Jacobian eigenvalues ------------------------------------------------------------
    Ne = 500 if args.quick else 1000
    m = gt.gated_rnn("cho", gt.ChoGRUParams(s_h=3, s_z=4, s_r=2, b_z=-2), Ne, 0)
    J = m.jacobian(m.simulate(m.random_state(1), 300))
    repeats = 2 if args.quick else 3
    t_lib, t_bare = [], []
    for _ in range(repeats):  # alternate so that machine load hits both alike
        A = J.copy()
        t = time.perf_counter(); gt.eigvals(A); t_lib.append(time.perf_counter() - t)
        t = time.perf_counter(); scipy_eigvals(J); t_bare.append(time.perf_counter() - t)
    r_eig = min(t_lib) / min(t_bare)
    print(f"jacobian_eigvals_N{Ne}_vs_bare_scipy: ratio {r_eig:.2f}x (need <= 1.15x; library {min(t_lib):.2f} s, "
          f"bare {min(t_bare):.2f} s) {'PASS' if r_eig <= 1.15 else 'FAIL'}")
    t_jac = _best(lambda: m.jacobian(m.random_state(2)), 2)
    print(f"  info: building the Jacobian at N={Ne} takes {t_jac:.3f} s")
    ok &= r_eig <= 1.15

    # 3. widget redraw --------------------------------------------------------------------
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    base = gt.gated_rnn("cho", gt.ChoGRUParams(), 200, 0)

    def redraw(p=gt.ChoGRUParams(s_h=3, s_z=4, s_r=2, b_z=-2)):
        explore.draw_explore_panel(ax, p, N=200, seed=0, model=base)
        fig.canvas.draw()

    redraw()
    t_redraw = _best(redraw, 2 if args.quick else 5)
    plt.close(fig)
    print(f"explore_redraw_N200: {t_redraw:.2f} s (need <= 0.5 s) {'PASS' if t_redraw <= 0.5 else 'FAIL'}")
    ok &= t_redraw <= 0.5
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
