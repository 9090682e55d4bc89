"""Bootstrap confidence intervals for evaluation metrics, and for base vs trained differences.

Both models answer the same items, so a difference is bootstrapped paired: each resample draws
items with replacement and takes trained - base on the same draw, which removes the items'
shared difficulty from the interval. Percentile intervals; seeded, so a re-run gives the same
numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

METRICS = {"pass_at_1": "correct", "mean_reward": "score", "format_rate": "format"}
"""Reported metric -> the per-item column it averages (pass@1 is stdout exact for CodeBoost tasks)."""


@dataclass(frozen=True)
class Interval:
    """A mean (or a difference of means) and its bootstrap interval."""

    value: float
    low: float
    high: float


def bootstrap_mean(values: np.ndarray, resamples: int, confidence: float, rng: np.random.Generator) -> Interval:
    """The mean of `values` with a percentile interval over `resamples` resamples."""
    values = np.asarray(values, dtype=np.float64)
    if len(values) == 0:
        return Interval(float("nan"), float("nan"), float("nan"))
    draws = rng.integers(0, len(values), size=(resamples, len(values)))
    means = values[draws].mean(axis=1)
    tail = (1.0 - confidence) / 2
    return Interval(float(values.mean()), float(np.quantile(means, tail)), float(np.quantile(means, 1.0 - tail)))


def _paired(predictions: pd.DataFrame, column: str, base: str, trained: str) -> pd.DataFrame:
    wide = predictions.pivot_table(index="item_id", columns="model", values=column, aggfunc="first")
    return wide[[base, trained]].dropna()


def interval_table(
    predictions: pd.DataFrame,
    resamples: int,
    confidence: float,
    seed: int,
    base: str = "base",
    trained: str = "trained",
) -> pd.DataFrame:
    """Per benchmark and metric: each model's mean with its interval and, when both models answered,
    the paired difference trained - base with its interval (`excludes_zero`: the interval does)."""
    rows = []
    rng = np.random.default_rng(seed)
    for benchmark, group in predictions.groupby("benchmark", sort=True):
        models = set(group["model"])
        for metric, column in METRICS.items():
            row: dict[str, object] = {"benchmark": benchmark, "metric": metric}
            for model in (base, trained):
                values = group.loc[group["model"] == model, column].astype(np.float64).to_numpy()
                interval = bootstrap_mean(values, resamples, confidence, rng) if model in models else None
                row[model] = interval.value if interval else float("nan")
                row[f"{model}_low"] = interval.low if interval else float("nan")
                row[f"{model}_high"] = interval.high if interval else float("nan")
            if {base, trained} <= models:
                paired = _paired(group.assign(**{column: group[column].astype(np.float64)}), column, base, trained)
                difference = bootstrap_mean((paired[trained] - paired[base]).to_numpy(), resamples, confidence, rng)
                row.update(
                    items=len(paired),
                    difference=difference.value,
                    difference_low=difference.low,
                    difference_high=difference.high,
                    excludes_zero=bool(difference.low > 0 or difference.high < 0),
                )
            else:
                row.update(
                    items=int((group["model"] == base).sum()),
                    difference=float("nan"),
                    difference_low=float("nan"),
                    difference_high=float("nan"),
                    excludes_zero=False,
                )
            rows.append(row)
    return pd.DataFrame(rows)
