"""Plots of fitted curves against observed points, drawn with matplotlib's Agg canvas.

Figures are built on ``matplotlib.figure.Figure`` with an Agg canvas (no pyplot, no global
state, no display needed), so a Dagster step or a CLI on a headless server can draw them.
DejaVu Sans, matplotlib's bundled default, carries Cyrillic.
"""

from __future__ import annotations

import io
import math

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter
from sqlalchemy.engine import Engine

from shrinkage.reports.data import CurveSet, gather
from shrinkage.reports.period import ReportPeriod
from shrinkage.reports.template import load_template

LEGEND_NAME_CHARS = 32
PANEL_SIZE_IN = (6.2, 4.2)


def _short(name: str) -> str:
    return name if len(name) <= LEGEND_NAME_CHARS else name[: LEGEND_NAME_CHARS - 1] + "…"


def curves_figure(curves: CurveSet, types: list[str] | None = None, labels: dict[str, str] | None = None,
                  ncols: int = 2, title: str | None = None) -> Figure:
    """One panel per product type: each product's fitted S(t) as a line, observations as dots."""
    types = curves.product_types if types is None else types
    labels = labels or {}
    n = max(1, len(types))
    ncols = min(ncols, n)
    nrows = math.ceil(n / ncols)
    fig = Figure(figsize=(PANEL_SIZE_IN[0] * ncols, PANEL_SIZE_IN[1] * nrows + (0.5 if title else 0)),
                 layout="constrained")
    FigureCanvasAgg(fig)
    if title:
        fig.suptitle(title, fontsize=14, fontweight="bold")
    if not types:
        ax = fig.add_subplot(1, 1, 1)
        ax.text(0.5, 0.5, "Нет подобранных кривых и наблюдений", ha="center", va="center", fontsize=13)
        ax.set_axis_off()
        return fig
    max_age = float(curves.ages.max()) if len(curves.ages) else 60.0
    for index, ptype in enumerate(types, start=1):
        ax = fig.add_subplot(nrows, ncols, index)
        points = curves.observed_of(ptype)
        shown = points[points["t"] <= max_age * 1.05]
        if len(shown):
            ax.scatter(shown["t"], shown["y"], s=28, color="0.25", alpha=0.7, label="инвентаризации (факт/модель)",
                       zorder=4, edgecolors="white", linewidths=0.6)
        for product, values in curves.curves_of(ptype).items():
            ax.plot(curves.ages, values, linewidth=2.0, label=_short(product), zorder=3)
        ax.set_title(labels.get(ptype, ptype), fontsize=12)
        ax.set_xlabel("срок хранения, дней")
        ax.set_ylabel("усушка, % веса")
        ax.set_xlim(0, max_age)
        # The scale follows the curves; a count far off them (a keying error) is pinned to the
        # edge as a red triangle instead of squashing every curve into a sliver.
        curve_top = max((float(np.max(v)) for v in curves.curves_of(ptype).values()), default=0.0)
        top = max(curve_top, 1e-4) * 1.25
        outside = shown[(shown["y"] > top) | (shown["y"] < -0.25 * top)]
        if len(outside):
            ax.scatter(outside["t"], outside["y"].clip(-0.25 * top, top), marker="^", s=46,
                       color="tab:red", zorder=5, label="вне шкалы (вероятная ошибка учёта)")
        ax.set_ylim(min(0.0, max(float(shown["y"].min()) if len(shown) else 0.0, -0.25 * top)), top)
        ax.yaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=1))
        ax.grid(True, alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8, loc="upper left", framealpha=0.85)
    return fig


def figure_png(fig: Figure, dpi: int = 110) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def curves_png(engine: Engine, period: ReportPeriod | str | None = None, dpi: int = 90,
               labels: dict[str, str] | None = None) -> bytes:
    """PNG of the fitted curves per product type (for Dagster metadata as a markdown image)."""
    data = gather(engine, period)
    if labels is None:
        labels = load_template().product_type_labels
    return figure_png(curves_figure(data.curves, labels=labels), dpi=dpi)
