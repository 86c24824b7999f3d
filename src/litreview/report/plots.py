"""Figures of declared tables: bar, stacked percent bar, strip (log or linear), binned bar.

Deterministic: SVG with a fixed hash salt and no date, fixed jitter.
"""

from __future__ import annotations

import io
import statistics
import textwrap
from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd

from litreview.report.spec import Figure

__all__ = ["draw"]

_COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#999999")
_GREY = "#666666"


def _render(draw_on: Callable[[Any], None], size: tuple[float, float]) -> dict[str, bytes]:
    import matplotlib as mpl
    from matplotlib.figure import Figure as MplFigure

    rc = {
        "svg.hashsalt": "litreview-report",
        "svg.fonttype": "none",
        "font.family": ["DejaVu Sans", "sans-serif"],
        "font.size": 9,
        "axes.titlesize": 10,
        "axes.titleweight": "bold",
        "axes.spines.top": False,
        "axes.spines.right": False,
        "text.parse_math": False,
        "path.simplify": False,
    }
    from litreview.log import render_lock

    with render_lock, mpl.rc_context(rc):
        figure = MplFigure(figsize=size, layout="constrained")
        draw_on(figure)
        outputs = {}
        for file_format, metadata in (("svg", {"Date": None}), ("png", {})):
            buffer = io.BytesIO()
            figure.savefig(buffer, format=file_format, dpi=150, metadata=metadata)
            outputs[file_format] = buffer.getvalue()
    return outputs


def _no_data(axes: Any) -> None:
    axes.text(
        0.5, 0.5, "no studies", ha="center", va="center", transform=axes.transAxes, color=_GREY
    )
    axes.set_xticks([])
    axes.set_yticks([])


def draw(
    figure: Figure,
    table: pd.DataFrame,
    *,
    points: Sequence[tuple[str, float, bool]] = (),
    by: Sequence[str] = (),
) -> dict[str, bytes]:
    """The figure's PNG and SVG bytes."""
    options = figure.options
    size = (float(options.get("width", 7)), float(options.get("height", 4)))

    def on(mpl_figure: Any) -> None:
        axes = mpl_figure.subplots()
        mpl_figure.suptitle(
            textwrap.fill(figure.title, 90), x=0.01, ha="left", fontsize=10, fontweight="bold"
        )
        if figure.plot == "bar":
            _bar(axes, table, by)
        elif figure.plot == "stacked_percent_bar":
            _stacked(axes, table, by)
        elif figure.plot == "strip":
            _strip(axes, points, bool(options.get("log")), options.get("reference_lines") or [])
        else:
            _binned(axes, table)
        if options.get("x_label"):
            axes.set_xlabel(options["x_label"])
        if options.get("y_label"):
            axes.set_ylabel(options["y_label"])

    return _render(on, size)


def _bar(axes: Any, table: pd.DataFrame, by: Sequence[str]) -> None:
    top = table[table["level"] == by[0]]
    if top.empty:
        _no_data(axes)
        return
    labels = [textwrap.fill(str(label), 18) for label in top[f"{by[0]}_label"]]
    axes.bar(range(len(labels)), list(top["n"]), color=_COLOURS[0])
    for position, n in enumerate(top["n"]):
        axes.text(position, n, str(n), ha="center", va="bottom")
    axes.set_xticks(range(len(labels)), labels)
    axes.set_ylabel("studies")


def _stacked(axes: Any, table: pd.DataFrame, by: Sequence[str]) -> None:
    if len(by) < 2:
        rows = table[table["level"] == by[0]]
        groups = [("all", rows)]
        code_column, label_column = by[0], f"{by[0]}_label"
    else:
        inner = table[table["level"] == by[1]]
        groups = [
            (label, inner[inner[by[0]] == code])
            for code, label in zip(
                table.loc[table["level"] == by[0], by[0]],
                table.loc[table["level"] == by[0], f"{by[0]}_label"],
                strict=True,
            )
        ]
        code_column, label_column = by[1], f"{by[1]}_label"
    if not groups or all(rows.empty for _, rows in groups):
        _no_data(axes)
        return
    codes: list[str] = []
    labels: dict[str, str] = {}
    for _, rows in groups:
        for code, label in zip(rows[code_column], rows[label_column], strict=True):
            if code not in codes:
                codes.append(code)
                labels[code] = label
    colours = {code: _COLOURS[index % len(_COLOURS)] for index, code in enumerate(codes)}
    for position, (_, rows) in enumerate(groups):
        left = 0.0
        for code, percent in zip(rows[code_column], rows["percent"], strict=True):
            width = 0.0 if pd.isna(percent) else float(percent)
            axes.barh(
                position, width, left=left, color=colours[code], height=0.6, label=labels[code]
            )
            if width >= 6:
                axes.text(
                    left + width / 2,
                    position,
                    f"{width:.0f}%",
                    ha="center",
                    va="center",
                    color="white",
                    fontsize=8,
                )
            left += width
    names = [
        f"{textwrap.fill(str(name), 20)}\n(n = {int(rows['denominator'].iloc[0]) if len(rows) else 0})"
        for name, rows in groups
    ]
    axes.set_yticks(range(len(groups)), names)
    axes.set_ylim(len(groups) - 0.5, -0.5)
    axes.set_xlim(0, 100)
    axes.set_xlabel("% of studies")
    handles, names_seen = axes.get_legend_handles_labels()
    unique = dict(zip(names_seen, handles, strict=True))
    axes.legend(
        unique.values(),
        unique.keys(),
        loc="upper center",
        bbox_to_anchor=(0.5, -0.18),
        ncol=3,
        frameon=False,
        fontsize=8,
    )


def _strip(
    axes: Any, points: Sequence[tuple[str, float, bool]], log: bool, lines: Sequence[Any]
) -> None:
    """Every value as a point (open: estimated), the group's median as a bar, reference lines."""
    from matplotlib.lines import Line2D
    from matplotlib.ticker import FuncFormatter, NullFormatter

    values = [p for p in points if p[1] > 0 or not log]
    if not values:
        _no_data(axes)
        return
    groups: list[str] = []
    for group, _, _ in values:
        if group not in groups:
            groups.append(group)
    estimated_any = False
    for index, group in enumerate(groups):
        colour = _COLOURS[index % len(_COLOURS)]
        members = [(v, e) for g, v, e in values if g == group]
        for offset, (value, estimated) in enumerate(members):
            jitter = ((offset * 7) % 11 - 5) / 40
            estimated_any = estimated_any or estimated
            axes.scatter(
                index + jitter,
                value,
                s=24,
                facecolors="none" if estimated else colour,
                edgecolors=colour,
                zorder=3,
            )
        median = statistics.median(v for v, _ in members)
        axes.hlines(median, index - 0.3, index + 0.3, color="black", linewidth=1.5, zorder=4)
    for line in lines:
        axes.axhline(float(line["value"]), color=_GREY, linestyle="--", linewidth=1, zorder=1)
        axes.annotate(
            str(line.get("label", "")),
            (0, float(line["value"])),
            xycoords=("axes fraction", "data"),
            xytext=(4, 3),
            textcoords="offset points",
            color=_GREY,
            fontsize=8,
        )
    if log:
        axes.set_yscale("log")
        axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
        axes.yaxis.set_minor_formatter(NullFormatter())
    counts = [sum(1 for g, _, _ in values if g == group) for group in groups]
    axes.set_xticks(
        range(len(groups)),
        [f"{g or 'all'}\n({n} values)" for g, n in zip(groups, counts, strict=True)],
    )
    axes.set_xlim(-0.6, len(groups) - 0.4)
    handles = [Line2D([], [], color="black", linewidth=1.5, label="median")]
    if estimated_any:
        handles.append(
            Line2D(
                [],
                [],
                marker="o",
                linestyle="",
                markerfacecolor="none",
                color=_GREY,
                label="estimated",
            )
        )
    axes.legend(handles=handles, loc="upper right", frameon=False, fontsize=8)


def _binned(axes: Any, table: pd.DataFrame) -> None:
    if table.empty:
        _no_data(axes)
        return
    labels = [str(label) for label in table["bin"]]
    counts = list(table["studies"])
    axes.bar(range(len(labels)), counts, color=[_COLOURS[0]] * (len(labels) - 2) + [_GREY, _GREY])
    for position, n in enumerate(counts):
        axes.text(position, n, str(n), ha="center", va="bottom")
    axes.set_xticks(range(len(labels)), [textwrap.fill(label, 12) for label in labels])
    axes.set_ylabel("studies")
