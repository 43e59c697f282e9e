"""Dataset-level expectations (Great Expectations 1.x), as data a reviewer can read.

Belongs here: WHICH expectation implements which dataset-level rule of ``schemas/rules.yaml``,
on which dataset and with which parameters (thresholds come from the settings, section
``[pruefung]``). Not here: running GX, batching and mapping results back to findings
(:mod:`inobhut.validation.expectations`), the rule texts (``rules.yaml``).

GX validates two frames per dataset and batch (all delivery versions of one office-asset
run, concatenated, each version labelled in the column ``_lieferung``):

``zeilen``      the rows of every version (pseudonymised: ``fall_id`` instead of the case
                number), so uniqueness is a *compound* expectation over ``_lieferung`` + key;
``kennzahlen``  one row per version with its shares (grouped in pandas first), so a
                distribution rule is one column expectation over all versions at once.

Every entry: ``rule`` (rule id), ``frame`` (``zeilen`` | ``kennzahlen``), ``expectation``
(the GX class name), ``kwargs`` (a function of the ``[pruefung]`` settings returning the
keyword arguments), ``datasets``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from schemas.datasets import DATASETS


@dataclass(frozen=True)
class ExpectationSpec:
    rule: str
    frame: str  # "zeilen" | "kennzahlen"
    expectation: str  # GX expectation class name
    kwargs: Callable[[str, dict], dict]  # (dataset, settings["pruefung"]) -> kwargs
    datasets: tuple[str, ...]
    beschreibung: str  # German, for the rule catalogue page


def _key_columns(dataset: str) -> list[str]:
    return ["_lieferung", *("fall_id" if c == "fallnummer" else c for c in DATASETS[dataset].key)]


# Share columns of the ``kennzahlen`` frame (percent, per delivery version):
#   anteil_geschlecht_o      rows with Geschlecht = o
#   anteil_anlass_14         rows whose Anlaesse contain 14
#   anteil_fremdes_jugendamt rows whose Jugendamt is not the delivering office (of rows with a value)
KENNZAHLEN = ("anteil_geschlecht_o", "anteil_anlass_14", "anteil_fremdes_jugendamt")

SUITE: tuple[ExpectationSpec, ...] = (
    ExpectationSpec(
        "S001", "zeilen", "ExpectCompoundColumnsToBeUnique",
        lambda ds, pr: {"column_list": _key_columns(ds)},
        ("massnahmen", "uma", "plaetze", "personal"),
        "expect_compound_columns_to_be_unique über Lieferung und Schlüssel (Fallnummer-Pseudonym; Einrichtung + Stichtag; Bereich + Stichtag)",
    ),
    ExpectationSpec(
        "S002", "kennzahlen", "ExpectColumnValuesToBeBetween",
        lambda ds, pr: {"column": "anteil_fremdes_jugendamt", "max_value": 100, "strict_max": True},
        ("massnahmen", "uma", "plaetze", "personal"),
        "expect_column_values_to_be_between: Anteil fremder Jugendamtsschlüssel je Lieferung unter 100 %",
    ),
    ExpectationSpec(
        "S105", "kennzahlen", "ExpectColumnValuesToBeBetween",
        lambda ds, pr: {"column": "anteil_geschlecht_o", "max_value": float(pr["anteil_geschlecht_o_pct"])},
        ("massnahmen", "uma"),
        "expect_column_values_to_be_between: Anteil Geschlecht = o je Lieferung höchstens pruefung.anteil_geschlecht_o_pct",
    ),
    ExpectationSpec(
        "S106", "kennzahlen", "ExpectColumnValuesToBeBetween",
        lambda ds, pr: {"column": "anteil_anlass_14", "max_value": float(pr["anteil_anlass_14_pct"])},
        ("massnahmen",),
        "expect_column_values_to_be_between: Anteil Anlass 14 je Lieferung höchstens pruefung.anteil_anlass_14_pct",
    ),
)

GX_RULES: frozenset[str] = frozenset(s.rule for s in SUITE)


def specs_for(dataset: str) -> list[ExpectationSpec]:
    return [s for s in SUITE if dataset in s.datasets]


def suite_name(dataset: str) -> str:
    return f"inobhut_{dataset}"
