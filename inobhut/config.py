"""Settings and directories.

Belongs here: where things live (landing, archive, staging, warehouse, out, Dagster home),
the settings file (defaults in ``inobhut/settings.toml``, overridden by the file named in
``INOBHUT_CONFIG``) and the member-office reference data. Nothing here reads deliveries.
"""

from __future__ import annotations

import csv
import io
import os
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

ENV_DIRS = {
    "landing": ("INOBHUT_LANDING", "data/landing"),
    "archive": ("INOBHUT_ARCHIVE", "data/archive"),
    "staging": ("INOBHUT_STAGING", "data/staging"),
    "warehouse": ("INOBHUT_WAREHOUSE", "data/warehouse.duckdb"),
    "out": ("INOBHUT_OUT", "out"),
}

DEMO_PSEUDONYM_KEY = "inobhut-demo-schluessel-nicht-produktiv"


@dataclass(frozen=True)
class Paths:
    landing: Path
    archive: Path
    staging: Path
    warehouse: Path
    out: Path

    @classmethod
    def from_env(cls, base: Path | None = None, **overrides: str | Path | None) -> "Paths":
        """Directories from explicit overrides, else environment variables, else defaults
        relative to ``base`` (the current directory)."""
        base = Path(base or Path.cwd())
        vals = {}
        for key, (var, default) in ENV_DIRS.items():
            val = overrides.get(key) or os.environ.get(var) or default
            p = Path(val)
            vals[key] = p if p.is_absolute() else (base / p)
        return cls(**vals)

    def export_env(self) -> None:
        """Write these directories into the environment (so Dagster resources see them)."""
        for key, (var, _) in ENV_DIRS.items():
            os.environ[var] = str(getattr(self, key))


def _deep_merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _deep_merge(out[k], v)
        else:
            out[k] = v
    return out


@lru_cache(maxsize=8)
def _load_settings(path: str | None) -> dict[str, Any]:
    default = tomllib.loads(resources.files("inobhut").joinpath("settings.toml").read_text("utf-8"))
    if path:
        with open(path, "rb") as fh:
            default = _deep_merge(default, tomllib.load(fh))
    return default


def settings() -> dict[str, Any]:
    """The merged settings (defaults + ``INOBHUT_CONFIG`` file)."""
    return _load_settings(os.environ.get("INOBHUT_CONFIG") or None)


@dataclass(frozen=True)
class Office:
    ags: str
    name: str
    art: str
    land: str
    verbund: str
    einwohner: int

    @property
    def label(self) -> str:
        art = {"Stadtkreis": "Stadt", "Große Kreisstadt": "Stadt", "Stadt": "Stadt"}.get(self.art, "Kreis" if "kreis" in self.art.lower() or self.art == "Kreis" else self.art)
        return f"{self.name} ({art})" if self.name in _duplicate_names() else self.name


def _duplicate_names() -> frozenset[str]:
    return _duplicate_names_of(_offices_file())


@lru_cache(maxsize=4)
def _duplicate_names_of(path: str) -> frozenset[str]:
    names = [o.name for o in _offices_cached(path)]
    return frozenset(n for n in names if names.count(n) > 1)


def _offices_file() -> str:
    """The member-office file; a relative path is taken relative to the settings file."""
    name = settings()["stammdaten"].get("jugendaemter_datei") or ""
    if name and not Path(name).is_absolute():
        cfg = os.environ.get("INOBHUT_CONFIG")
        base = Path(cfg).resolve().parent if cfg else Path.cwd()
        name = str(base / name)
    return name


@lru_cache(maxsize=4)
def _offices_cached(path: str) -> tuple[Office, ...]:
    if path:
        text = Path(path).read_text(encoding="utf-8-sig")
    else:
        text = resources.files("schemas.reference").joinpath("jugendaemter.csv").read_text("utf-8-sig")
    rows = csv.DictReader(io.StringIO(text))
    return tuple(
        Office(r["ags"].strip(), r["name"].strip(), r["art"].strip(), r["land"].strip(), r["verbund"].strip(), int(r["einwohner"]))
        for r in rows
    )


def offices() -> tuple[Office, ...]:
    """All member offices in file order."""
    return _offices_cached(_offices_file())


def office(ags: str) -> Office:
    return _office_index(_offices_file())[ags]  # KeyError for an unknown office


@lru_cache(maxsize=4)
def _office_index(path: str) -> dict[str, Office]:
    """The offices of the member file ``path`` by AGS (first entry wins, as the file order
    lookup did): a look-up follows the settings in force, like :func:`offices`."""
    index: dict[str, Office] = {}
    for o in _offices_cached(path):
        index.setdefault(o.ags, o)
    return index


def office_keys() -> tuple[str, ...]:
    return tuple(o.ags for o in offices())


def networks() -> tuple[str, ...]:
    """Network ids in file order of their first office: ('BW', 'SH-KOOP')."""
    seen: list[str] = []
    for o in offices():
        if o.verbund not in seen:
            seen.append(o.verbund)
    return tuple(seen)


def network_offices(verbund: str) -> tuple[Office, ...]:
    return tuple(o for o in offices() if o.verbund == verbund)


NETWORK_LABELS = {"BW": "Baden-Württemberg", "SH-KOOP": "Kooperationsverbund Schleswig-Holstein (SH-KOOP)"}


def networks_label(verbund: str) -> str:
    return NETWORK_LABELS.get(verbund, verbund)
