"""What the extraction stage writes: the tables, the validation report, the blank workbook."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from litreview import io
from litreview.extract.form import Form
from litreview.extract.sheets import Extraction, Normalised
from litreview.sheets import add_list_validation

__all__ = ["validation_report", "write_form_workbook", "write_outputs"]


def validation_report(form: Form, extraction: Extraction, normalised: Normalised) -> str:
    """Markdown: what the sheets hold, which included studies they lack, which per-weight
    values are estimates, and which quantities were empty, unread or replaced by arms."""
    included, missing = extraction.included, extraction.missing
    readings = normalised.readings
    covered = len(included) - len(missing)
    lines = ["# Extraction validation report", ""]
    lines.append(f"- Studies sheet: `{extraction.studies_path}` ({len(extraction.studies)} rows)")
    if extraction.arms_path is None:
        lines.append("- Arms sheet: none")
    else:
        lines.append(f"- Arms sheet: `{extraction.arms_path}` ({len(extraction.arms)} rows)")
    lines += ["", "## Counts", "", "| what | n |", "| --- | ---: |"]
    lines.append(f"| studies extracted | {len(normalised.studies)} |")
    lines.append(f"| arms | {len(extraction.arms)} |")
    for spec in form.quantities():
        values = normalised.values[spec.name]
        lines.append(f"| {spec.name} values | {len(values)} |")
        if spec.quantity.measures == "amount":
            lines.append(
                f"| {spec.name} values in {spec.quantity.unit} | {int(values['amount'].notna().sum())} |"
            )
            if spec.quantity.per_weight:
                per = values["per_weight"].notna()
                estimated = values["per_weight_estimated"].fillna(False).astype(bool)
                lines.append(
                    f"| {spec.name} values in {spec.quantity.per_weight_unit} | {int(per.sum())} |"
                )
                lines.append(
                    f"| of which estimated with a reference body weight | {int(estimated.sum())} |"
                )
            other = values["amount"].isna() & (
                values["per_weight"].isna() if spec.quantity.per_weight else True
            )
            lines.append(
                f"| {spec.name} values in other units (kept as reported) | {int(other.sum())} |"
            )
    categories = [spec for spec in form.fields if spec.from_screening]
    if categories:
        column = categories[0].name
        lines += ["", f"| {column} | included | extracted |", "| --- | ---: | ---: |"]
        extracted = normalised.studies[column].value_counts()
        wanted = included["category"].value_counts()
        for code in sorted(set(extracted.index) | set(wanted.index), key=str):
            lines.append(f"| {code} | {int(wanted.get(code, 0))} | {int(extracted.get(code, 0))} |")
    lines += ["", "## Coverage", ""]
    if len(included):
        lines.append(
            f"{covered} of {len(included)} included studies ({100 * covered / len(included):.0f}%) "
            "have a row in the studies sheet."
        )
    else:
        lines.append("No study is included yet.")
    if len(missing):
        lines += [
            "",
            f"Included studies with no extraction row ({len(missing)}; "
            "extraction.require_complete is false, so the run went on):",
            "",
        ]
        lines += [
            f"- `{r}`: {_title(t)}"
            for r, t in zip(missing["record_id"], missing["title"], strict=True)
        ]
    for spec in form.quantities():
        if not spec.quantity.per_weight:
            continue
        values = normalised.values[spec.name]
        estimated = values["per_weight_estimated"].fillna(False).astype(bool)
        lines += ["", f"## {spec.name}: per-kg values estimated with a reference body weight", ""]
        if estimated.any():
            for basis, count in sorted(
                values.loc[estimated, "per_weight_basis"].value_counts().items()
            ):
                lines.append(f"- {basis}: {count}")
        else:
            lines.append("None.")
    lines += ["", "## Quantities not read", ""]
    for spec in form.quantities():
        for status, heading in (
            ("empty", "empty cells"),
            ("no value", "text with no value in it"),
            ("replaced by arms", "study-row values replaced by the arms'"),
        ):
            chosen = readings[(readings["field"] == spec.name) & (readings["status"] == status)]
            lines += [f"### {spec.name}: {heading} ({len(chosen)})", ""]
            lines += [_reading_line(item) for item in chosen.to_dict("records")] or ["None."]
            lines.append("")
        assumed = readings[(readings["field"] == spec.name) & (readings["unit_assumed"] > 0)]
        if spec.quantity.assume_unit:
            lines += [
                f"### {spec.name}: numbers with no unit written, read as "
                f"{spec.quantity.assume_unit} ({len(assumed)})",
                "",
            ]
            lines += [_reading_line(item) for item in assumed.to_dict("records")] or ["None."]
            lines.append("")
    return "\n".join(lines)


def _reading_line(reading: Mapping[str, Any]) -> str:
    who = f"`{reading['record_id']}`"
    if not pd.isna(reading.get("label")):
        who += f" ({reading['label']})"
    if not pd.isna(reading.get("arm")):
        who += f", arm {reading['arm']!r}"
    text = reading.get("text")
    where = f"{reading['file']}, row {reading['row']}"
    return f"- {who}: {where}" + ("" if pd.isna(text) else f": {text!r}")


def _title(title: object) -> str:
    return "no title" if pd.isna(title) else repr(str(title))


def write_form_workbook(path: str | Path, form: Form, included: pd.DataFrame) -> None:
    """A blank extraction workbook: sheet `studies` (one row per included study, the key and
    category filled in, drop-downs from the vocabularies), `arms` (headers), and `fields`
    describing each field. Saved as the studies sheet, it is read as it is."""
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    studies = workbook.active
    studies.title = "studies"
    study_fields = form.at("study")
    header = [form.key, *(spec.column for spec in study_fields)]
    studies.append(header)
    for record in included.to_dict("records"):
        row = [record["record_id"]]
        for spec in study_fields:
            value = record.get("category") if spec.from_screening else None
            row.append(None if pd.isna(value) else value)
        io.append_text_row(studies, row)
    arms = workbook.create_sheet("arms")
    io.append_text_row(arms, [form.key, form.arm_key, *(spec.column for spec in form.at("arm"))])
    described = workbook.create_sheet("fields")
    io.append_text_row(
        described, ["column", "field", "type", "level", "required", "allowed", "description"]
    )
    for spec in form.fields:
        io.append_text_row(
            described,
            [
                spec.column,
                spec.name,
                spec.type,
                spec.level,
                "yes" if spec.required else "no",
                spec.allowed(),
                spec.description,
            ],
        )
    lists = workbook.create_sheet("lists")
    coded = [spec for spec in form.fields if spec.type == "code"]
    last = max(len(included) + 1, 2) + 1000
    for number, spec in enumerate(coded, start=1):
        letter = get_column_letter(number)
        lists.cell(row=1, column=number, value=spec.name)
        for row_number, code in enumerate(spec.codes, start=2):
            lists.cell(row=row_number, column=number, value=code)
        for sheet, level in ((studies, "study"), (arms, "arm")):
            if not spec.on(level):
                continue
            columns = [cell.value for cell in sheet[1]]
            target = get_column_letter(columns.index(spec.column) + 1)
            source = f"lists!${letter}$2:${letter}${len(spec.codes) + 1}"
            add_list_validation(sheet, spec.name, source, target, last)
    lists.sheet_state = "hidden"
    studies.freeze_panes = "B2"
    with io.atomic_open(path, "wb") as handle:
        workbook.save(handle)


def write_outputs(
    normalised: Normalised,
    report: str,
    *,
    studies_path: str | Path,
    out_dir: str | Path,
    report_path: str | Path,
) -> None:
    """studies.tsv, one `<quantity>.tsv` per quantity field, and validation.md, atomically."""
    io.write_table(studies_path, normalised.studies)
    for name, table in normalised.values.items():
        io.write_table(Path(out_dir) / f"{name}.tsv", table)
    io.write_text(report_path, report if report.endswith("\n") else report + "\n")
