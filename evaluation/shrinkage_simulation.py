"""Between-outlet variance (tau^2) estimators on simulated outlets: `python -m evaluation.shrinkage_simulation`.

Why `features.aggregate.pooled_outlet_stats` uses REML. Outlet sizes are a database's (--db: the n of
`unnamed_sources_per_1k_words` in its latest aggregate run) or, without one, 300 outlets with 1-4 articles and
80 with 20-200. Outlet effects ~ N(0, tau2) (or t with 3 degrees of freedom), articles ~ N(effect, 8), in four
scenarios; outlet means and within sums of squares drawn from their exact sampling distributions. Reports,
per estimator, mean estimate / truth, relative RMSE, the share of estimates at 0 and the mean shrinkage of the
outlets with >= 20 articles next to the ideal one (true tau2 and within variance).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import click
import numpy as np

Estimator = Callable[[np.ndarray, np.ndarray, float], float]


def moments(n: np.ndarray, y: np.ndarray, within: float) -> float:
    """The former estimate: variance of the outlet means minus their unweighted mean noise."""
    return max(float(np.var(y, ddof=1) - np.mean(within / n)), 0.0)


def dersimonian_laird(n: np.ndarray, y: np.ndarray, within: float) -> float:
    k, total = len(n), n.sum()
    mu = float(np.sum(n * y) / total)
    return max(float((np.sum(n * (y - mu) ** 2) - (k - 1) * within) / (total - np.sum(n**2) / total)), 0.0)


def reml(n: np.ndarray, y: np.ndarray, within: float) -> float:
    se2, tau2 = within / n, 0.0
    for _ in range(1000):
        w = 1 / (tau2 + se2)
        mu = np.sum(w * y) / np.sum(w)
        new = max(float(np.sum(w**2 * ((y - mu) ** 2 - se2)) / np.sum(w**2) + 1 / np.sum(w)), 0.0)
        if abs(new - tau2) <= 1e-10 * (new + within):
            return new
        tau2 = new
    return tau2


def paule_mandel(n: np.ndarray, y: np.ndarray, within: float) -> float:
    se2, k = within / n, len(n)

    def excess(t: float) -> float:
        w = 1 / (t + se2)
        return float(np.sum(w * (y - np.sum(w * y) / np.sum(w)) ** 2) - (k - 1))

    if excess(0.0) <= 0:
        return 0.0
    low, high = 0.0, float(np.var(y)) + 1.0
    while excess(high) > 0:
        high *= 2
    for _ in range(100):
        low, high = ((low + high) / 2, high) if excess((low + high) / 2) > 0 else (low, (low + high) / 2)
    return (low + high) / 2


def large_only(n: np.ndarray, y: np.ndarray, within: float) -> float:
    """The moment estimate on the outlets with >= 20 articles only."""
    big = n >= 20
    return moments(n[big], y[big], within) if big.sum() > 1 else 0.0


ESTIMATORS: dict[str, Estimator] = {
    "moments (former)": moments,
    "DerSimonian-Laird": dersimonian_laird,
    "REML": reml,
    "Paule-Mandel": paule_mandel,
    "moments, n >= 20 only": large_only,
}
SCENARIOS = ("equal noise", "tiny outlets less noisy (0.6x)", "noise varies by outlet", "effects t3")


def draw(rng: np.random.Generator, n: np.ndarray, scenario: str, tau2: float) -> tuple[np.ndarray, float, float]:
    """(outlet means, pooled within variance, realised tau2) of one simulated corpus."""
    sigma2 = np.full(n.size, 8.0)
    effect = rng.normal(0.0, np.sqrt(tau2), n.size)
    if scenario == SCENARIOS[1]:
        sigma2[n < 5] *= 0.6
    elif scenario == SCENARIOS[2]:
        sigma2 = 8.0 * rng.lognormal(0.0, 0.5, n.size) / np.exp(0.125)
    elif scenario == SCENARIOS[3]:
        effect = rng.standard_t(3, n.size) * np.sqrt(tau2 / 3)
    means = effect + rng.normal(0.0, np.sqrt(sigma2 / n))
    ssw = float(np.sum(sigma2 * rng.chisquare(np.maximum(n - 1, 1)) * (n > 1)))
    truth = float(np.var(effect)) if scenario == SCENARIOS[3] else tau2
    return means, ssw / float(n.sum() - n.size), truth


def outlet_sizes(db: Path | None, rng: np.random.Generator) -> np.ndarray:
    if db is None:
        return np.concatenate([rng.integers(1, 5, 300), rng.integers(20, 201, 80)]).astype(float)
    import duckdb

    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute(
            "SELECT n FROM outlet_features WHERE feature = 'unnamed_sources_per_1k_words' "
            "AND run_id = (SELECT max(run_id) FROM outlet_features)"
        ).fetchall()
    return np.array([r[0] for r in rows], dtype=float)


@click.command()
@click.option("--db", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None)
@click.option("--reps", default=300, show_default=True, type=click.IntRange(min=1))
@click.option("--seed", default=1, show_default=True, type=int)
def main(db: Path | None, reps: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = outlet_sizes(db, rng)
    out = [f"{n.size} outlets, {int((n < 5).sum())} with < 5 articles, {int((n >= 20).sum())} with >= 20; {reps} draws"]
    out += ["", "| scenario | tau2 | estimator | estimate / truth | rel. RMSE | at 0 | shrinkage n>=20 (ideal) |"]
    out += ["|---|---|---|---|---|---|---|"]
    for scenario in SCENARIOS:
        for tau2 in (0.25, 1.0):
            ratios: dict[str, list[float]] = {k: [] for k in ESTIMATORS}
            shrink: dict[str, list[float]] = {k: [] for k in ESTIMATORS}
            ideal = []
            for _ in range(reps):
                means, within, truth = draw(rng, n, scenario, tau2)
                se2 = within / n[n >= 20]
                ideal.append(float(np.mean(se2 / (truth + se2))))
                for name, estimate in ESTIMATORS.items():
                    t = estimate(n, means, within)
                    ratios[name].append(t / truth)
                    shrink[name].append(float(np.mean(se2 / (t + se2))))
            for name in ESTIMATORS:
                r = np.array(ratios[name])
                out.append(
                    f"| {scenario} | {tau2} | {name} | {r.mean():.2f} | {np.sqrt(np.mean((r - 1) ** 2)):.2f} "
                    f"| {np.mean(r == 0):.2f} | {np.mean(shrink[name]):.3f} ({np.mean(ideal):.3f}) |"
                )
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
