"""The extraction form a review declares in config (`extraction:`), checked and compiled.

A form is a list of fields, each with a `name`, a `type` and what that type needs:

    text        free text
    code        one code of `vocabulary` (a list of codes, or a mapping code -> label, in
                display order); `vocabulary: screening.categories` takes the screening
                categories and requires the code to equal the record's screened category
    codes       several codes of `vocabulary`, separated by `separator` (";")
    integer     a whole number (`min`, `max`)
    number      a number (`min`, `max`, `min_exclusive`)
    boolean     yes / no (true/false, 1/0, y/n)
    date        YYYY-MM-DD (or YYYY-MM, YYYY)
    identifier  one or more identifiers, each matching one of `patterns` (name -> regex)
    quantity    an amount or a time as the paper words it, normalised (see
                `litreview.quantities.spec`)

and `required`, `level` (study: the studies sheet; arm: the arms sheet; both), `column`
(the sheet's column, default the name), `description`, and for codes `groups` (derived
fields: group name -> {group: [codes or "prefix*"]}). `extraction.derived` declares more
derived fields: `{name, from, map: {group: [codes]}}` or `{name, sum: [field, field]}` (number
fields, or amount quantities: each read once on the study row, the sum in the first's unit).
Every problem is a ConfigError naming the key.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from litreview.errors import ConfigError
from litreview.quantities.spec import QuantitySpec, Vocabulary, build_vocabulary, quantity_spec

__all__ = [
    "FIELD_TYPES",
    "SCREENING_CATEGORIES",
    "Derived",
    "Field",
    "Form",
    "form_from_config",
]

FIELD_TYPES = (
    "text",
    "code",
    "codes",
    "integer",
    "number",
    "boolean",
    "date",
    "identifier",
    "quantity",
)
LEVELS = ("study", "arm", "both")
SCREENING_CATEGORIES = "screening.categories"
_FIELD_KEYS = {
    "name",
    "type",
    "column",
    "vocabulary",
    "groups",
    "required",
    "level",
    "description",
    "min",
    "max",
    "min_exclusive",
    "separator",
    "patterns",
    "example",
}
_QUANTITY_KEYS = {
    "measures",
    "unit",
    "per_weight",
    "weight",
    "reference_by",
    "reference_weights_kg",
    "accept",
    "assume_unit",
    "default_event",
}
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Field:
    """One declared field of the form."""

    name: str
    type: str
    column: str
    required: bool = False
    level: str = "study"
    description: str | None = None
    codes: tuple[str, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)
    from_screening: bool = False
    separator: str = ";"
    minimum: float | None = None
    maximum: float | None = None
    min_exclusive: float | None = None
    patterns: Mapping[str, re.Pattern[str]] = field(default_factory=dict)
    quantity: QuantitySpec | None = None
    example: str | None = None

    def on(self, level: str) -> bool:
        """True when the field is filled in on the `level` sheet ("study" or "arm")."""
        return self.level in (level, "both")

    def label(self, code: str) -> str:
        return self.labels.get(code, code)

    def allowed(self) -> str:
        """What a cell of this field may hold, for error messages and the form's sheet."""
        if self.type in ("code", "codes"):
            text = ", ".join(self.codes)
            return (
                f"one of {text}"
                if self.type == "code"
                else f"codes of {text}, separated by '{self.separator}'"
            )
        if self.type == "integer":
            return "a whole number" + _bounds(self)
        if self.type == "number":
            return "a number" + _bounds(self)
        if self.type == "boolean":
            return "yes or no"
        if self.type == "date":
            return "a date YYYY-MM-DD (or YYYY-MM, YYYY)"
        if self.type == "identifier":
            return f"identifiers ({', '.join(self.patterns)}), separated by '{self.separator}'"
        if self.type == "quantity" and self.quantity is not None:
            return self.quantity.describe()
        return "text"


def _bounds(spec: Field) -> str:
    parts = []
    if spec.min_exclusive is not None:
        parts.append(f"above {spec.min_exclusive:g}")
    if spec.minimum is not None:
        parts.append(f"at least {spec.minimum:g}")
    if spec.maximum is not None:
        parts.append(f"at most {spec.maximum:g}")
    return f" ({', '.join(parts)})" if parts else ""


@dataclass(frozen=True)
class Derived:
    """A field computed from others: a mapping of codes (`source`, `groups`) or a sum."""

    name: str
    source: str | None = None
    groups: tuple[tuple[str, tuple[str, ...]], ...] = ()
    sum_of: tuple[str, ...] = ()
    description: str | None = None

    def group_of(self, code: str | None) -> str | None:
        if code is None:
            return None
        for group, members in self.groups:
            if any(fnmatch.fnmatchcase(code, member) for member in members):
                return group
        return None

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(group for group, _ in self.groups)


@dataclass(frozen=True)
class Form:
    """The whole declared form, with the vocabulary quantities are read with."""

    fields: tuple[Field, ...]
    derived: tuple[Derived, ...]
    vocabulary: Vocabulary
    key: str = "study"
    arm_key: str = "arm"
    label_field: str | None = "label"

    def field(self, name: str) -> Field:
        for spec in self.fields:
            if spec.name == name:
                return spec
        raise KeyError(name)

    def names(self) -> list[str]:
        return [spec.name for spec in self.fields] + [spec.name for spec in self.derived]

    def at(self, level: str) -> list[Field]:
        return [spec for spec in self.fields if spec.on(level)]

    def quantities(self) -> list[Field]:
        return [spec for spec in self.fields if spec.type == "quantity"]

    def codes_of(self, name: str) -> tuple[str, ...]:
        """The codes a coded or derived field can take, in display order."""
        for spec in self.fields:
            if spec.name == name:
                return spec.codes
        for derived in self.derived:
            if derived.name == name:
                return derived.codes
        return ()

    def type_of(self, name: str) -> str | None:
        """A field's type; a derived mapping is a code, a derived sum a number."""
        for spec in self.fields:
            if spec.name == name:
                return spec.type
        for derived in self.derived:
            if derived.name == name:
                return "number" if derived.sum_of else "code"
        return None

    def labels_of(self, name: str) -> Mapping[str, str]:
        for spec in self.fields:
            if spec.name == name:
                return spec.labels
        return {}


def form_from_config(
    section: Mapping[str, Any], *, screening_categories: Mapping[str, str] | None = None
) -> Form:
    """Check `extraction:` and build its Form; ConfigError names the key and what to fix."""
    where = "extraction"
    fields_config = section.get("fields")
    if (
        not isinstance(fields_config, Sequence)
        or isinstance(fields_config, str)
        or not fields_config
    ):
        raise ConfigError(
            f"{where}.fields must list the extraction form's fields (each with name and type)"
        )
    vocabulary = build_vocabulary(section)
    key = _name(section.get("key", "study"), f"{where}.key")
    arm_key = _name(section.get("arm_key", "arm"), f"{where}.arm_key")
    fields: list[Field] = []
    seen: set[str] = {key, arm_key, "record_id"}
    for number, entry in enumerate(fields_config, 1):
        spec = _field(entry, f"{where}.fields[{number}]", vocabulary, screening_categories)
        if spec.name in seen:
            raise ConfigError(
                f"{where}.fields[{number}]: the name {spec.name!r} is used twice (or is the "
                "key column): give each field its own name"
            )
        seen.add(spec.name)
        fields.append(spec)
    derived: list[Derived] = []
    for spec, entry in zip(fields, fields_config, strict=True):
        for name, groups in (entry.get("groups") or {}).items():
            derived.append(_map(name, spec, groups, f"{where}.fields.{spec.name}.groups.{name}"))
    for number, entry in enumerate(section.get("derived") or [], 1):
        derived.append(_derived(entry, f"{where}.derived[{number}]", fields))
    for item in derived:
        if item.name in seen:
            raise ConfigError(f"{where}: the derived field {item.name!r} has a field's name")
        seen.add(item.name)
    names = {spec.name: spec for spec in fields}
    for spec in fields:
        if spec.quantity is not None:
            spec.quantity.check_fields(names, where=f"{where}.fields.{spec.name}")
    label_field = section.get("label", "label")
    if label_field is not None and label_field not in names:
        label_field = None
    return Form(
        fields=tuple(fields),
        derived=tuple(derived),
        vocabulary=vocabulary,
        key=key,
        arm_key=arm_key,
        label_field=label_field,
    )


def _name(value: object, where: str) -> str:
    if not isinstance(value, str) or not _NAME.fullmatch(value):
        raise ConfigError(f"{where} is {value!r}: use a name of letters, digits and _")
    return value


def _field(
    entry: object,
    where: str,
    vocabulary: Vocabulary,
    screening_categories: Mapping[str, str] | None,
) -> Field:
    if not isinstance(entry, Mapping):
        raise ConfigError(f"{where} is {entry!r}: give a mapping with name and type")
    name = _name(entry.get("name"), f"{where}.name")
    where = f"{where} ({name})"
    kind = entry.get("type")
    if kind not in FIELD_TYPES:
        raise ConfigError(f"{where}.type is {kind!r}: use one of {', '.join(FIELD_TYPES)}")
    allowed = _FIELD_KEYS | (_QUANTITY_KEYS if kind == "quantity" else set())
    unknown = sorted(str(key) for key in entry if key not in allowed)
    if unknown:
        raise ConfigError(
            f"{where} has unknown key(s) {', '.join(unknown)}: a {kind} field takes "
            f"{', '.join(sorted(allowed))}"
        )
    level = entry.get("level", "study")
    if level not in LEVELS:
        raise ConfigError(f"{where}.level is {level!r}: use study, arm or both")
    required = entry.get("required", False)
    if not isinstance(required, bool):
        raise ConfigError(f"{where}.required is {required!r}: write true or false")
    column = entry.get("column", name)
    if not isinstance(column, str) or not column.strip():
        raise ConfigError(f"{where}.column is {column!r}: give the sheet's column name")
    codes: tuple[str, ...] = ()
    labels: dict[str, str] = {}
    from_screening = False
    if kind in ("code", "codes"):
        raw = entry.get("vocabulary")
        if raw == SCREENING_CATEGORIES:
            if screening_categories is None:
                raise ConfigError(f"{where}.vocabulary: no screening categories are declared")
            from_screening = True
            labels = dict(screening_categories)
            codes = tuple(labels)
        else:
            codes, labels = _vocabulary(raw, f"{where}.vocabulary")
    elif "vocabulary" in entry or "groups" in entry:
        raise ConfigError(f"{where}: only code and codes fields take a vocabulary or groups")
    separator = entry.get("separator", ";")
    if not isinstance(separator, str) or len(separator.strip()) != 1:
        raise ConfigError(f"{where}.separator is {separator!r}: give one character such as ';'")
    patterns: dict[str, re.Pattern[str]] = {}
    if kind == "identifier":
        raw_patterns = entry.get("patterns")
        if not isinstance(raw_patterns, Mapping) or not raw_patterns:
            raise ConfigError(f"{where}.patterns must map a name to a regular expression")
        for label, expression in raw_patterns.items():
            try:
                patterns[str(label)] = re.compile(str(expression), re.IGNORECASE)
            except re.error as error:
                raise ConfigError(f"{where}.patterns.{label}: {error}") from error
    quantity = None
    if kind == "quantity":
        quantity = quantity_spec(
            {key: value for key, value in entry.items() if key in _QUANTITY_KEYS},
            vocabulary,
            where=where,
        )
    description = entry.get("description")
    if description is not None and not isinstance(description, str):
        raise ConfigError(f"{where}.description must be text")
    return Field(
        name=name,
        type=kind,
        column=column.strip(),
        required=required,
        level=level,
        description=description,
        codes=codes,
        labels=labels,
        from_screening=from_screening,
        separator=separator.strip(),
        minimum=_optional_number(entry.get("min"), f"{where}.min"),
        maximum=_optional_number(entry.get("max"), f"{where}.max"),
        min_exclusive=_optional_number(entry.get("min_exclusive"), f"{where}.min_exclusive"),
        patterns=patterns,
        quantity=quantity,
        example=None if entry.get("example") is None else str(entry.get("example")),
    )


def _vocabulary(raw: object, where: str) -> tuple[tuple[str, ...], dict[str, str]]:
    if isinstance(raw, Mapping):
        items = [(str(code), str(label)) for code, label in raw.items()]
    elif isinstance(raw, Sequence) and not isinstance(raw, str):
        items = [(code, code) for code in raw]
    else:
        raise ConfigError(f"{where} must list codes (or map each code to its label), got {raw!r}")
    if not items:
        raise ConfigError(f"{where} is empty: list the codes")
    seen: set[str] = set()
    for code, _ in items:
        if not isinstance(code, str) or not code.strip() or code != code.strip():
            raise ConfigError(f"{where}: {code!r} is not a code (non-empty text, no spaces around)")
        if ";" in code:
            raise ConfigError(f"{where}: {code!r} holds ';', which separates codes in a cell")
        if code.casefold() in seen:
            raise ConfigError(f"{where}: {code!r} is listed twice (codes match case-insensitively)")
        seen.add(code.casefold())
    return tuple(code for code, _ in items), {code: label for code, label in items}


def _optional_number(value: object, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{where} is {value!r}: give a number")
    return float(value)


def _map(name: str, source: Field, groups: object, where: str) -> Derived:
    _name(name, where)
    if not isinstance(groups, Mapping) or not groups:
        raise ConfigError(f"{where} must map each group to the codes it holds")
    checked: list[tuple[str, tuple[str, ...]]] = []
    for group, members in groups.items():
        if isinstance(members, str):
            members = [members]
        if not isinstance(members, Sequence) or not members:
            raise ConfigError(f"{where}.{group} must list codes (a trailing * matches a prefix)")
        for member in members:
            if not any(fnmatch.fnmatchcase(code, str(member)) for code in source.codes):
                raise ConfigError(
                    f"{where}.{group}: {member!r} matches no code of {source.name} "
                    f"({', '.join(source.codes)})"
                )
        checked.append((str(group), tuple(str(member) for member in members)))
    return Derived(name=name, source=source.name, groups=tuple(checked))


def _derived(entry: object, where: str, fields: Sequence[Field]) -> Derived:
    if not isinstance(entry, Mapping):
        raise ConfigError(f"{where} is {entry!r}: give name and map (with from) or sum")
    name = _name(entry.get("name"), f"{where}.name")
    by_name = {spec.name: spec for spec in fields}
    unknown = sorted(set(entry) - {"name", "from", "map", "sum", "description"})
    if unknown:
        raise ConfigError(f"{where} has unknown key(s) {', '.join(unknown)}")
    if "sum" in entry:
        parts = entry["sum"]
        if not isinstance(parts, Sequence) or isinstance(parts, str) or len(parts) < 2:
            raise ConfigError(f"{where}.sum must list two or more number fields")
        specs = [by_name.get(part) for part in parts]

        def is_number(spec: Field | None) -> bool:
            return spec is not None and spec.type in ("integer", "number")

        def is_amount(spec: Field | None) -> bool:
            return (
                spec is not None
                and spec.quantity is not None
                and spec.quantity.measures == "amount"
            )

        numbers, amounts = all(map(is_number, specs)), all(map(is_amount, specs))
        if not (numbers or amounts):
            kind = is_amount if is_amount(specs[0]) else is_number
            bad = next(part for part, spec in zip(parts, specs, strict=True) if not kind(spec))
            raise ConfigError(
                f"{where}.sum: {bad!r} is not an integer or number field (a sum adds number "
                "fields, or amount quantities, not both)"
            )
        if amounts:
            unit = specs[0].quantity.unit
            for part, spec in zip(parts, specs, strict=True):
                if specs[0].quantity.vocabulary.system.factor(spec.quantity.unit, unit) is None:
                    raise ConfigError(
                        f"{where}.sum: {part!r} is in {spec.quantity.unit}, which does not add "
                        f"to {unit}"
                    )
        return Derived(name=name, sum_of=tuple(parts), description=entry.get("description"))
    source = by_name.get(entry.get("from"))
    if source is None or source.type != "code":
        raise ConfigError(f"{where}.from must name a code field, got {entry.get('from')!r}")
    derived = _map(name, source, entry.get("map"), f"{where}.map")
    return Derived(
        name=derived.name,
        source=derived.source,
        groups=derived.groups,
        description=entry.get("description"),
    )
