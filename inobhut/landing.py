"""The landing zone: every file in it classified as a delivery or as unassignable.

Belongs here: walking ``<landing>/<ags>/`` (without following symbolic links), deciding for every
file whether it is a delivery of a member office for a processable month, and -- when several
files claim the same office, dataset and month -- which one counts. Everything that is not a
delivery becomes an :class:`Unassignable` with a German reason and fix, so that every file
that arrived ends in exactly one of: delivery (archived and validated) or reported.
Does not belong here: copying into the archive, versions (:mod:`inobhut.archive`).

Rules (see docs/entscheidungen.md):

- processable months are ``zeitraum.erster_monat`` .. the last complete month (Europe/Berlin);
  a file for the running month, a future month (a typo like ``2052-01``) or a month before the
  first one is unassignable -- it never stops the intake of the other files;
- only the ASCII digits 0-9 count as digits in names (:mod:`inobhut.naming`);
- several files for the same (office, dataset, month) in one landing state: the file with the
  newest modification time counts, at equal times the first name in code-point order
  (``.CSV`` before ``.csv`` before ``.xlsx``); the others are reported (``doppelt``). Files with
  the same content as the chosen one are reported as such and are not archived twice.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from inobhut.naming import DeliveryName, NameError_, parse_name
from inobhut import atomic

CONFIRMATIONS_FILE = "bestaetigungen.csv"
# created and removed at once at the top of the landing zone by the intake and the "anything
# new?" checks, to read the file system's clock (inobhut.checksum_cache); never a delivery
CLOCK_MARKER = ".inobhut-uhr"
TEMP_SUFFIXES = (".tmp", ".part", ".partial", ".crdownload", "~")
TIMEZONE = ZoneInfo("Europe/Berlin")

# kinds of unassignable files (stable ids, used in the run metadata, the Lieferstatus, the audit trail)
KINDS = {
    "name": "Dateiname falsch",
    "ordner": "falscher Ordner",
    "mitglied": "kein Mitglieds-Jugendamt",
    "monat": "Monat nicht verarbeitbar",
    "doppelt": "zweite Datei für dieselbe Lieferung",
    "verknuepfung": "Verknüpfung oder Sonderdatei",
    "versteckt": "versteckte oder unvollständige Datei",
}


@dataclass
class Unassignable:
    path: str  # relative to the landing zone (POSIX)
    reason: str  # German: what is wrong, naming the file
    hinweis: str = ""  # German: what to do
    kind: str = "name"  # key of KINDS
    ags: str | None = None  # member office the file probably belongs to (folder or name)
    month: str | None = None  # month the file probably belongs to (for the Lieferstatus)
    sha256: str | None = None  # filled by the archive for regular files
    kopie: str | None = None  # path of the copy in the archive (relative to the archive root)
    verwendet: str | None = None  # kind "doppelt": the file of the same delivery that counts

    @property
    def message(self) -> str:
        return f"{self.reason} {self.hinweis}".strip()

    def as_dict(self) -> dict:
        return {"pfad": self.path, "art": self.kind, "grund": self.reason, "hinweis": self.hinweis,
                "jugendamt": self.ags, "monat": self.month, "sha256": self.sha256, "kopie": self.kopie}


@dataclass(frozen=True)
class Candidate:
    path: Path
    rel: str
    name: DeliveryName
    mtime_ns: int


def processable_months(today: dt.date | None = None) -> tuple[str, str]:
    """(first, last) month that can be processed: the setting ``zeitraum.erster_monat`` and the
    last complete month in Europe/Berlin."""
    from inobhut.calendar import last_complete_month
    from inobhut.config import settings

    today = today or dt.datetime.now(TIMEZONE).date()
    return settings()["zeitraum"]["erster_monat"], last_complete_month(today)


def month_problem(month: str, window: tuple[str, str]) -> tuple[str, str] | None:
    """(reason, fix) if ``month`` lies outside the processable window, else None."""
    first, last = window
    if month < first:
        return (f"Der Berichtsmonat {month} liegt vor dem ersten verarbeiteten Monat {first} (Einstellung "
                "zeitraum.erster_monat).",
                "Bitte den Monat im Dateinamen prüfen; ältere Monate verarbeitet inobhut nicht.")
    if month > last:
        if int(month[:4]) > int(last[:4]) + 1:
            return (f"Der Berichtsmonat {month} liegt in der Zukunft (letzter verarbeitbarer Monat: {last}).",
                    "Vermutlich ein Tippfehler im Jahr: bitte die Datei mit dem richtigen Monat neu benennen.")
        return (f"Der Berichtsmonat {month} ist noch nicht abgeschlossen (letzter verarbeitbarer Monat: {last}).",
                "Ein Monat wird erst verarbeitet, wenn er abgeschlossen ist; die Datei bleibt liegen und wird "
                "danach automatisch übernommen. Ist der Monat falsch, bitte die Datei umbenennen.")
    return None


_ANY_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})", re.ASCII)


def _ascii_digits(text: str) -> str:
    return "".join(str(unicodedata.decimal(c)) if unicodedata.category(c) == "Nd" else c for c in text)


def guess_month(name: str) -> str | None:
    """The month a (possibly misnamed) file probably belongs to, for reporting only."""
    m = _ANY_MONTH.search(_ascii_digits(name))
    if m and 1 <= int(m[2]) <= 12:
        return f"{m[1]}-{m[2]}"
    return None


def _guess_ags(parts: tuple[str, ...], members: set[str]) -> str | None:
    if len(parts) >= 2 and parts[0] in members:
        return parts[0]
    head = _ascii_digits(parts[-1]).split("_", 1)[0]
    for cand in (head, "0" + head):
        if cand in members:
            return cand
    return None


def scan(landing: Path, members: set[str], window: tuple[str, str] | None = None
         ) -> tuple[list[Candidate], list[Unassignable]]:
    """Classify every file of the landing zone. Returns the deliveries (at most one per
    office, dataset and month, see the module doc) and the unassignable files, both in path
    order."""
    window = window or processable_months()
    found: list[Candidate] = []
    bad: list[Unassignable] = []
    if not landing.exists():
        return found, bad
    problems: dict = {}  # month -> month_problem(month, window)

    def unassignable(rel: str, reason: str, hinweis: str, kind: str, month: str | None = None) -> None:
        parts = tuple(Path(rel).parts)
        bad.append(Unassignable(rel, reason, hinweis, kind, _guess_ags(parts, members),
                                month or guess_month(parts[-1])))

    stack = [(os.fspath(landing), "", 0)]
    while stack:
        folder, prefix, depth = stack.pop()
        entries = _entries(folder)
        subdirs = []
        for e in entries:
            name = e.name
            try:
                is_dir = e.is_dir()  # follows a link, as os.walk does: a link to a folder is a folder
            except OSError:
                is_dir = False
            if not is_dir:
                continue
            rel = prefix + name
            if e.is_symlink():
                unassignable(rel, f"Der Ordner „{rel}“ ist eine Verknüpfung (symbolischer Link); Verknüpfungen werden "
                             "nicht verfolgt, die Dateien darin werden nicht gelesen.",
                             "Bitte die Dateien direkt in den Ordner <Eingang>/<Schlüssel>/ legen (keine Verknüpfung).",
                             "verknuepfung")
            elif name.startswith("."):
                unassignable(rel, f"Der Ordner „{rel}“ ist versteckt; die Dateien darin werden nicht gelesen.",
                             "Bitte Lieferungen nicht in versteckte Ordner legen.", "versteckt")
            else:
                subdirs.append((e.path, rel + "/", depth + 1))
        for e in entries:
            name = e.name
            try:
                if e.is_dir():
                    continue
            except OSError:
                pass
            rel = prefix + name
            top = depth == 0
            if name == CONFIRMATIONS_FILE and depth == 1 and not e.is_symlink():
                continue  # the office's confirmations of Hinweise (inobhut.confirmations), not a delivery
            if name == CLOCK_MARKER and top:
                continue
            if e.is_symlink() or not _is_file(e):
                unassignable(rel, f"„{rel}“ ist eine Verknüpfung oder Sonderdatei; Verknüpfungen und "
                             "Sonderdateien werden nicht angenommen.", "Bitte die Datei selbst (keine Verknüpfung) in den Ordner legen.",
                             "verknuepfung")
                continue
            if name.startswith(".") or name.endswith(TEMP_SUFFIXES):
                unassignable(rel, f"„{rel}“ ist eine versteckte Datei oder wird noch übertragen (Rest einer "
                             "abgebrochenen Übertragung?); sie wird nicht verarbeitet.",
                             "Wenn das eine Lieferung ist: bitte unter ihrem richtigen Namen ablegen; sonst löschen.",
                             "versteckt")
                continue
            if depth != 1:
                unassignable(rel, f"Die Datei „{rel}“ liegt nicht im Ordner eines Jugendamts "
                             "(<Eingang>/<Schlüssel>/<Datei>).",
                             "Bitte die Datei direkt in den Ordner des Jugendamts legen (keine Unterordner).", "ordner")
                continue
            try:
                dn = parse_name(name)
            except NameError_ as exc:
                unassignable(rel, str(exc), "Bitte die Datei umbenennen; sie wird beim nächsten Lauf übernommen.", "name")
                continue
            if dn.ags not in members:
                unassignable(rel, f"„{dn.ags}“ im Dateinamen „{rel}“ ist kein Mitglieds-Jugendamt.",
                             "Bitte den Schlüssel des Jugendamts im Dateinamen prüfen.", "mitglied", dn.month)
                continue
            if prefix[:-1] != dn.ags:
                unassignable(rel, f"Die Datei „{rel}“ für {dn.ags} liegt im Ordner „{prefix[:-1]}“; "
                             f"sie gehört in den Ordner „{dn.ags}“.",
                             f"Bitte die Datei in den Ordner „{dn.ags}“ verschieben.", "ordner", dn.month)
                continue
            problem = problems.get(dn.month, problems)
            if problem is problems:
                problem = problems[dn.month] = month_problem(dn.month, window)
            if problem:
                unassignable(rel, f"„{rel}“: {problem[0]}", problem[1], "monat", dn.month)
                continue
            try:
                mtime_ns = e.stat().st_mtime_ns
            except FileNotFoundError:  # removed meanwhile: as if it had not been there
                continue
            found.append(Candidate(Path(e.path), rel, dn, mtime_ns))
        stack.extend(reversed(subdirs))
    chosen, doubles = resolve_duplicates(found)
    return chosen, sorted(bad + doubles, key=lambda u: u.path)


def _entries(folder: str) -> list[os.DirEntry]:
    """The entries of ``folder`` sorted by name; none if it cannot be listed (as ``os.walk``
    skips such a folder). ``os.scandir`` instead of ``os.walk`` and ``Path``: its entries know
    whether they are links, folders or files without a further system call (ten years of
    deliveries lying in the landing zone, 24,200 files: 2.05 s -> 0.7 s for the whole scan)."""
    try:
        with os.scandir(folder) as it:
            return sorted(it, key=lambda e: e.name)
    except OSError:
        return []


def _is_file(e: os.DirEntry) -> bool:
    try:
        return e.is_file()
    except OSError:
        return False


def resolve_duplicates(found: list[Candidate]) -> tuple[list[Candidate], list[Unassignable]]:
    """At most one file per (office, dataset, month): the newest modification time wins, at
    equal times the first name in code-point order. The others are reported."""
    groups: dict[tuple[str, str, str], list[Candidate]] = {}
    for c in found:
        groups.setdefault((c.name.ags, c.name.dataset, c.name.month), []).append(c)
    chosen, doubles = [], []
    for key in sorted(groups):
        cands = groups[key]
        if len(cands) == 1:  # the usual case
            chosen.append(cands[0])
            continue
        cands = sorted(cands, key=lambda c: (-c.mtime_ns, c.rel))
        win = cands[0]
        chosen.append(win)
        for c in cands[1:]:
            doubles.append(Unassignable(
                c.rel,
                f"„{c.rel}“ ist eine zweite Datei für dieselbe Lieferung ({key[0]}, {key[1]}, {key[2]}); "
                f"verwendet wird die zuletzt geänderte Datei „{win.rel}“.",
                "Bitte je Jugendamt, Datensatz und Monat nur eine Datei liefern und die überzählige löschen; "
                "eine Korrektur ersetzt die alte Datei unter demselben Namen.",
                "doppelt", key[0], key[2], verwendet=win.rel))
    chosen.sort(key=lambda c: c.rel)
    return chosen, doubles


# ---------------------------------------------------------------- the unassignable files of the last intake
STATE_FILE = Path("_eingang") / "nicht_zuordenbar.json"


def save_state(staging: Path, items: list[Unassignable]) -> Path:
    """Write the unassignable files of the last intake to ``<staging>/_eingang/`` (derived
    state, read by the CLI summary and the Lieferstatus; sorted, no times: reproducible)."""
    import json

    path = Path(staging) / STATE_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps([u.as_dict() for u in sorted(items, key=lambda u: u.path)], ensure_ascii=False, indent=1) + "\n"
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        atomic.write_text(path, text)
    return path


def load_state(staging: Path) -> list[Unassignable]:
    """The unassignable files of the last intake ([] before the first one)."""
    import json

    path = Path(staging) / STATE_FILE
    if not path.exists():
        return []
    keys = {"pfad": "path", "art": "kind", "grund": "reason", "hinweis": "hinweis", "jugendamt": "ags",
            "monat": "month", "sha256": "sha256", "kopie": "kopie"}
    return [Unassignable(**{keys[k]: v for k, v in d.items() if k in keys}) for d in json.loads(path.read_text("utf-8"))]
