"""The declared report: sets, tables, figures and metrics (`spec`, `engine`, `plots`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from litreview.io import write_bytes, write_table, write_text
from litreview.report.engine import ReportData, compute
from litreview.report.plots import draw
from litreview.report.spec import ReportSpec, report_from_config

__all__ = ["ReportData", "output_names", "report_from_config", "to_markdown", "write_report"]


def output_names(spec: ReportSpec) -> tuple[list[str], list[str]]:
    """The table files (without extension) and figure names a report writes."""
    tables = [table.name for table in spec.tables]
    tables += [
        f"{t.name}_matrix" for t in spec.tables if t.kind == "tally" and t.options.get("matrix")
    ]
    return tables, [figure.name for figure in spec.figures]


def write_report(
    spec: ReportSpec,
    data: ReportData,
    out_dir: str | Path,
    *,
    prisma: pd.DataFrame | None = None,
) -> None:
    """tables/<name>.csv + .md, figures/<name>.png + .svg, tables/metrics.tsv (with the PRISMA
    metrics of the prisma stage appended); atomically."""
    out = Path(out_dir)
    computed = compute(spec, data)
    metrics = computed.metrics
    for name, table in {**computed.tables, **computed.extra_tables}.items():
        write_table(out / "tables" / f"{name}.csv", table)
        title = next((t.title for t in spec.tables if t.name == name), name)
        write_text(out / "tables" / f"{name}.md", f"# {title}\n\n" + to_markdown(table))
    for figure in spec.figures:
        table = spec.table(figure.table)
        images = draw(
            figure,
            computed.tables[figure.table],
            points=computed.points.get(figure.table, ()),
            by=table.options.get("by") or (),
        )
        for file_format, data_bytes in images.items():
            write_bytes(out / "figures" / f"{figure.name}.{file_format}", data_bytes)
    table = metrics.frame()
    if prisma is not None:
        table = pd.concat([table, prisma.astype(dict(table.dtypes))], ignore_index=True)
    write_table(out / "tables" / "metrics.tsv", table)


def to_markdown(table: pd.DataFrame) -> str:
    """A GitHub-flavoured Markdown table; numbers right-aligned, missing values empty."""
    numeric = [
        pd.api.types.is_numeric_dtype(table[column])
        and not pd.api.types.is_bool_dtype(table[column])
        for column in table.columns
    ]
    header = "| " + " | ".join(_cell(column) for column in table.columns) + " |"
    rule = "|" + "|".join("---:" if right else "---" for right in numeric) + "|"
    lines = [header, rule]
    for row in table.itertuples(index=False):
        lines.append("| " + " | ".join(_cell(value) for value in row) + " |")
    return "\n".join(lines) + "\n"


def _cell(value: object) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if isinstance(value, bool | np.bool_):
        text = "yes" if value else "no"
    elif isinstance(value, float | np.floating):
        number = float(value)
        text = str(int(number)) if number.is_integer() and abs(number) < 1e15 else f"{number:.6g}"
    else:
        text = str(value)
    return " ".join(text.replace("|", "\\|").split())
