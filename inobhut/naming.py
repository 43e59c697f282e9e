"""Delivery file names: ``<ags>_<dataset>_<YYYY-MM>.<csv|xlsx>`` in ``<landing>/<ags>/``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from schemas.datasets import DATASET_NAMES

EXTENSIONS = ("csv", "xlsx")
_NAME = re.compile(
    r"^(?P<ags>\d{4,8})_(?P<dataset>[a-z]+)_(?P<month>\d{4}-\d{2})\.(?P<ext>[A-Za-z]+)$"
)


@dataclass(frozen=True)
class DeliveryName:
    ags: str
    dataset: str
    month: str
    ext: str

    @property
    def file_name(self) -> str:
        return f"{self.ags}_{self.dataset}_{self.month}.{self.ext}"


def restore_ags(text: str) -> str:
    """Restore a leading zero lost in a spreadsheet: 4 -> 5 digits, 7 -> 8 digits."""
    t = text.strip()
    if t.isdigit() and len(t) in (4, 7):
        return "0" + t
    return t


class NameError_(ValueError):
    """A file name that does not follow the delivery format (message in German)."""


def parse_name(name: str) -> DeliveryName:
    """Parse a delivery file name; raises :class:`NameError_` with a German message."""
    if "/" in name or "\\" in name or name.startswith("."):
        raise NameError_(f"Der Dateiname „{name}“ ist nicht zulässig (Pfadangaben oder versteckte Datei).")
    m = _NAME.match(name)
    if not m:
        raise NameError_(
            f"Der Dateiname „{name}“ entspricht nicht dem Muster <Schlüssel>_<Datensatz>_<JJJJ-MM>.csv "
            "(z. B. 08335_massnahmen_2025-03.csv)."
        )
    ags = restore_ags(m["ags"])
    dataset, month, ext = m["dataset"], m["month"], m["ext"].lower()
    if dataset not in DATASET_NAMES:
        raise NameError_(
            f"Unbekannter Datensatz „{dataset}“ im Dateinamen „{name}“; erlaubt sind: {', '.join(DATASET_NAMES)}."
        )
    mm = int(month[5:7])
    if not 1 <= mm <= 12:
        raise NameError_(f"Ungültiger Monat „{month}“ im Dateinamen „{name}“.")
    if ext not in EXTENSIONS:
        raise NameError_(
            f"Dateityp „.{ext}“ wird nicht angenommen („{name}“); bitte als .csv oder .xlsx liefern."
        )
    return DeliveryName(ags, dataset, month, ext)


def delivery_path(landing: Path, dn: DeliveryName) -> Path:
    return landing / dn.ags / dn.file_name
