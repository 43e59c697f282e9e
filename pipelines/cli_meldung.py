"""``inobhut meldung …``: the statutory outputs of the offices (German help; exit codes 0 written,
1 refused or checks failed, 2 unusable call), reading the warehouse.

Subcommands: ``bund`` (federal statistic per office and year), ``uma`` (working-day UMA report for
a day or a range), ``fristen`` (§42a deadline list per office)."""

from __future__ import annotations

import click


@click.group(name="meldung", options_metavar="[OPTIONEN]", subcommand_metavar="BEFEHL [ARGUMENTE]...")
def meldung() -> None:
    """Gesetzliche Meldungen der Jugendämter: Bundesstatistik, UMA-Werktagsmeldung, Fristenliste §42a."""
