"""German texts for click's own messages (usage line, headings, errors) of the ``inobhut`` CLI.

click marks its messages for gettext but ships no German catalogue; users of inobhut read only
German. The click modules bind ``_`` at import; we rebind it to a lookup in this table (falling
back to the English text for anything not listed).
"""

from __future__ import annotations

import click

GERMAN = {
    "%(prog)s, version %(version)s": "%(prog)s, Version %(version)s",
    "Aborted!": "Abgebrochen.",
    "Commands": "Befehle",
    "Options": "Optionen",
    "Positional arguments": "Argumente",
    "Usage:": "Aufruf:",
    "Error: {message}": "Fehler: {message}",
    "Try '{command} {option}' for help.": "Hilfe: '{command} {option}'.",
    "Show the version and exit.": "Version anzeigen und beenden.",
    "Show this message and exit.": "Diese Hilfe anzeigen und beenden.",
    "Missing argument": "Argument fehlt",
    "Missing option": "Option fehlt",
    "Missing parameter": "Angabe fehlt",
    "Missing command.": "Befehl fehlt.",
    "No such command {name!r}.": "Unbekannter Befehl {name!r}.",
    "No such option {name!r}.": "Unbekannte Option {name!r}.",
    "Option {name!r} does not take a value.": "Die Option {name!r} nimmt keinen Wert.",
    "Option {name!r} requires an argument.": "Die Option {name!r} braucht einen Wert.",
    "Invalid value for {param_hint}: {message}": "Ungültiger Wert für {param_hint}: {message}",
    "Invalid value: {message}": "Ungültiger Wert: {message}",
    "Missing {param_type}": "{param_type} fehlt",
    "default: {default}": "Vorgabe: {default}",
    "env var: {var}": "Umgebungsvariable: {var}",
    "{value!r} is not a valid {number_type}.": "{value!r} ist keine gültige Zahl ({number_type}).",
    "{value} is not in the range {range}.": "{value} liegt nicht im Bereich {range}.",
    "{name} {filename!r} does not exist.": "{name} {filename!r} existiert nicht.",
    "{name} {filename!r} is a directory.": "{name} {filename!r} ist ein Verzeichnis.",
    "{name} {filename!r} is a file.": "{name} {filename!r} ist eine Datei.",
    "file": "Datei",
    "directory": "Verzeichnis",
    "path": "Pfad",
    "Choose from:\n\t{choices}": "Erlaubt:\n\t{choices}",
    "Did you mean {possibility}?": "Meinten Sie {possibility}?",
}


def _de(message: str) -> str:
    return GERMAN.get(message, PLURALS.get(message, message))


def _nde(singular: str, plural: str, n: int) -> str:
    return _de(singular if n == 1 else plural)


PLURALS = {"(Did you mean one of: {possibilities}?)": "(Meinten Sie eines von: {possibilities}?)"}


def install() -> None:
    import click.core
    import click.decorators
    import click.exceptions
    import click.formatting
    import click.parser
    import click.types

    for mod in (click.core, click.decorators, click.exceptions, click.formatting, click.parser, click.types):
        if hasattr(mod, "_"):
            mod._ = _de
        if hasattr(mod, "ngettext"):
            mod.ngettext = _nde
    try:  # click >= 8.2 moved the parser
        import click._parser as p

        p._ = _de
    except ImportError:
        pass


__all__ = ["install", "GERMAN", "click"]
