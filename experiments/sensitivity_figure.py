"""Fig. 3's figure: test accuracy against α (γ fixed) and against γ (α fixed), one panel each, with the
split-to-split standard deviation as error bars; drawn by both halves of ``graphcon-ode sensitivity``."""

from __future__ import annotations

from pathlib import Path

from matplotlib.figure import Figure

from graphcon_ode.results import write_png


def plot(rows: list[dict], path: Path, dataset: str) -> None:
    fig = Figure(figsize=(8, 3.2), dpi=100)
    axes = fig.subplots(1, 2, sharey=True)
    for ax, swept, fixed in zip(axes, ("alpha", "gamma"), ("gamma", "alpha")):
        points = [r for r in rows if r["swept"] == swept]
        ax.errorbar([r[swept] for r in points], [r["mean"] for r in points], yerr=[r["std"] for r in points],
                    marker="o", capsize=3)
        symbol = {"alpha": "α", "gamma": "γ"}
        ax.set_xlabel(f"{symbol[swept]} ({symbol[fixed]} = {points[0][fixed]:g})")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel(f"test accuracy on {dataset} (%)")
    fig.suptitle("GraphCON-GCN sensitivity to α and γ")
    fig.tight_layout()
    write_png(path, fig)
