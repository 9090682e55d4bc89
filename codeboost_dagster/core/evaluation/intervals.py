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

from codeboost_dagster.core.evaluation.heuristics import is_heuristic

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


MARGIN_COLUMNS = [
    "benchmark",
    "metric",
    "model",
    "value",
    "best_heuristic",
    "heuristic_value",
    "items",
    "margin",
    "margin_low",
    "margin_high",
    "excludes_zero",
]


def heuristic_margins(predictions: pd.DataFrame, resamples: int, confidence: float, seed: int) -> pd.DataFrame:
    """Per benchmark, metric and model: the model's mean, the best heuristic's (of highest mean on
    that benchmark and metric, `heuristics`) and the paired margin model - heuristic with its
    interval: the headline figure, since a margin over zero can be the empty answer's."""
    rows = []
    rng = np.random.default_rng(seed)
    for benchmark, group in predictions.groupby("benchmark", sort=True):
        heuristics = sorted(model for model in set(group["model"]) if is_heuristic(model))
        models = sorted(model for model in set(group["model"]) if not is_heuristic(model))
        if not heuristics:
            continue
        for metric, column in METRICS.items():
            values = group.assign(value=group[column].astype(np.float64))
            means = values.groupby("model")["value"].mean()
            best = max(heuristics, key=lambda name: (means[name], name))
            for model in models:
                paired = _paired(values, "value", best, model)
                margin = bootstrap_mean((paired[model] - paired[best]).to_numpy(), resamples, confidence, rng)
                rows.append(
                    {
                        "benchmark": benchmark,
                        "metric": metric,
                        "model": model,
                        "value": float(means[model]),
                        "best_heuristic": best,
                        "heuristic_value": float(means[best]),
                        "items": len(paired),
                        "margin": margin.value,
                        "margin_low": margin.low,
                        "margin_high": margin.high,
                        "excludes_zero": bool(margin.low > 0 or margin.high < 0),
                    }
                )
    return pd.DataFrame(rows, columns=MARGIN_COLUMNS)
