"""The intake and the "anything new?" checks remember the checksums of the landing files and of
each delivery's newest archived version by file identity (inobhut.checksum_cache): an unchanged
landing zone is read without hashing a file or reading a sidecar, and every change is still
found -- one of the same size with the old mtime restored, a file changed in the clock tick of the
cache, a file on another file system, a newest version replaced under the same name."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from inobhut import archive as arc
from inobhut.config import office_keys
from inobhut.landing import CLOCK_MARKER, scan
from tests.test_manifest_cache import _after_a_tick

MEMBERS = set(office_keys())
NAMES = ["08111/08111_massnahmen_2024-03.csv", "08111/08111_uma_2024-03.csv", "08115/08115_massnahmen_2024-03.csv"]


@pytest.fixture
def reads(monkeypatch):
    """The landing files hashed and the sidecars read, call by call."""
    hashed: list[str] = []
    sidecars: list[str] = []
    real_hash, real_side = arc.sha256_file, arc.read_sidecar
    monkeypatch.setattr(arc, "sha256_file", lambda p, *a, **k: (hashed.append(Path(p).name), real_hash(p, *a, **k))[1])
    monkeypatch.setattr(arc, "read_sidecar", lambda p: (sidecars.append(Path(p).name), real_side(p))[1])
    return hashed, sidecars


def _deliver(landing: Path, names=NAMES, extra: bytes = b"") -> None:
    for i, rel in enumerate(names):
        p = landing / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(f"Kopf;Spalte\n{i};x\n".encode() + extra)


def _intake(paths):
    return arc.intake(paths.landing, paths.archive, MEMBERS, staging=paths.staging)


def _landing_hashed(hashed: list[str]) -> list[str]:
    """Landing files hashed (the verified copies into the archive are named vNNNN_… or, while
    being copied, .<name>.<pid>-<random>.tmp)."""
    return sorted(n for n in hashed if not n.startswith(("v", ".")))


def test_unchanged_landing_zone_reads_no_file(inobhut_env, reads):
    paths = inobhut_env
    hashed, sidecars = reads
    _deliver(paths.landing)
    odd = paths.landing / "08111" / "08111_kosten_2024-03.csv"  # unassignable: kept as a copy
    odd.write_bytes(b"a;b\n")
    assert len(_intake(paths).new_versions) == 3
    _after_a_tick(paths.landing)
    s = _intake(paths)  # stores the newest versions' checksums (read once)
    assert s.new_versions == [] and s.unchanged == 3
    _after_a_tick(paths.landing)
    hashed.clear(), sidecars.clear()
    s = _intake(paths)
    assert s.new_versions == [] and s.unchanged == 3 and [u.path for u in s.unassignable] == ["08111/08111_kosten_2024-03.csv"]
    assert hashed == [] and sidecars == []
    assert arc.unregistered_unassignable(paths.landing, paths.archive, MEMBERS, staging=paths.staging) == []
    assert arc.pending_files(paths.landing, paths.archive, MEMBERS, staging=paths.staging) == []
    assert hashed == [] and sidecars == []
    assert not (paths.landing / CLOCK_MARKER).exists()
    # without the place of the caches, everything is read (as before)
    assert arc.pending_files(paths.landing, paths.archive, MEMBERS) == []
    assert _landing_hashed(hashed) == sorted(Path(n).name for n in NAMES) and len(sidecars) == 3
    # an unassignable file changed is hashed (and registered) again
    _after_a_tick(paths.landing)
    odd.write_bytes(b"a;c\n")
    assert [u.path for u in arc.unregistered_unassignable(paths.landing, paths.archive, MEMBERS, staging=paths.staging)] == [
        "08111/08111_kosten_2024-03.csv"]
    hashed.clear()
    _intake(paths)
    assert _landing_hashed(hashed) == [odd.name]
    assert arc.unregistered_unassignable(paths.landing, paths.archive, MEMBERS, staging=paths.staging) == []


def test_every_change_is_found(inobhut_env, reads):
    paths = inobhut_env
    hashed, _ = reads
    _deliver(paths.landing)
    _intake(paths)
    _after_a_tick(paths.landing)
    _intake(paths)
    _after_a_tick(paths.landing)
    # 1. the same size, the old mtime restored: the ctime differs
    p = paths.landing / NAMES[0]
    st = p.stat()
    p.write_bytes(p.read_bytes().replace(b"x", b"y"))
    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert p.stat().st_size == st.st_size and p.stat().st_mtime_ns == st.st_mtime_ns
    assert [(f.name) for f, _ in arc.pending_files(paths.landing, paths.archive, MEMBERS, staging=paths.staging)] == [p.name]
    s = _intake(paths)
    assert [(v.ags, v.dataset, v.version) for v in s.new_versions] == [("08111", "massnahmen", 2)]
    assert s.new_versions[0].sha256 == arc.sha256_file(p)

    # 2. racily clean: a file of the cache's own clock tick is hashed again
    _after_a_tick(paths.landing)
    _intake(paths)
    cache = paths.staging / arc.LANDING_CACHE
    doc = json.loads(cache.read_bytes())
    q = paths.landing / NAMES[1]
    doc["stand_ns"] = q.stat().st_ctime_ns  # as if the cache had been written in the file's tick
    cache.write_text(json.dumps(doc), encoding="utf-8")
    hashed.clear()
    _intake(paths)
    assert q.name in hashed
    assert _landing_hashed(hashed) == sorted(f.name for f in map(paths.landing.joinpath, NAMES)
                                             if max(f.stat().st_mtime_ns, f.stat().st_ctime_ns) >= doc["stand_ns"])

    # 3. a cache timed on another file system (device) is not trusted
    cache.unlink()
    _after_a_tick(paths.landing)
    _intake(paths)
    _after_a_tick(paths.landing)
    hashed.clear()
    _intake(paths)
    assert hashed == []
    doc = json.loads(cache.read_bytes())
    doc["geraet"] += 1
    cache.write_text(json.dumps(doc), encoding="utf-8")
    hashed.clear()
    _intake(paths)
    assert _landing_hashed(hashed) == sorted(Path(n).name for n in NAMES)


def test_a_newest_version_replaced_under_the_same_name_is_read_again(inobhut_env, reads):
    """Retention may remove a delivery's newest version, and a later intake writes the same
    version number with other content. What decides is the sidecar's identity, not its name: a
    re-delivery of the removed content must be archived, not taken as unchanged."""
    paths = inobhut_env
    p = paths.landing / NAMES[0]
    _deliver(paths.landing, NAMES[:1])
    _intake(paths)
    _deliver(paths.landing, NAMES[:1], extra=b"1;zwei\n")
    content_b = p.read_bytes()
    assert [v.version for v in _intake(paths).new_versions] == [2]
    _after_a_tick(paths.landing)
    _intake(paths)  # remembers the checksum of v0002 (content B)
    assert "08111/massnahmen/2024-03/v0002.json" in json.loads((paths.staging / arc.NEWEST_CACHE).read_bytes())["dateien"]
    v2 = arc.newest_version(paths.archive, "08111", "massnahmen", "2024-03")
    v2.path(paths.archive).unlink()  # retention removes v0002
    (paths.archive / "08111" / "massnahmen" / "2024-03" / "v0002.json").unlink()
    p.write_bytes(content_b + b"1;drei\n")
    # an intake that does not touch the caches archives content C as v0002 again
    assert [v.version for v in arc.intake(paths.landing, paths.archive, MEMBERS).new_versions] == [2]
    _after_a_tick(paths.landing)
    p.write_bytes(content_b)  # content B delivered again
    assert [f.name for f, _ in arc.pending_files(paths.landing, paths.archive, MEMBERS, staging=paths.staging)] == [p.name]
    s = _intake(paths)
    assert [v.version for v in s.new_versions] == [3] and s.new_versions[0].sha256 == v2.sha256


def test_the_clock_marker_is_never_a_delivery(inobhut_env):
    """A marker left at the top of the landing zone (a crash between creating and removing it) is
    neither a delivery nor reported as unassignable; the same name elsewhere is."""
    paths = inobhut_env
    _deliver(paths.landing, NAMES[:1])
    (paths.landing / CLOCK_MARKER).write_bytes(b"")
    (paths.landing / "08111" / CLOCK_MARKER).write_bytes(b"")
    found, bad = scan(paths.landing, MEMBERS)
    assert [c.rel for c in found] == [NAMES[0]]
    assert [b.path for b in bad] == [f"08111/{CLOCK_MARKER}"]
    s = _intake(paths)
    assert len(s.new_versions) == 1 and [b.path for b in s.unassignable] == [f"08111/{CLOCK_MARKER}"]


def test_without_a_place_for_the_marker_nothing_is_remembered(inobhut_env, reads):
    """The marker cannot be created (here its name is taken by a folder; so on a read-only
    landing zone): nothing is remembered, every file is read, the result is the same."""
    paths = inobhut_env
    hashed, _ = reads
    _deliver(paths.landing)
    _intake(paths)
    (paths.staging / arc.LANDING_CACHE).unlink()
    (paths.landing / CLOCK_MARKER).mkdir()
    for _ in range(2):
        _after_a_tick(paths.landing)
        hashed.clear()
        s = _intake(paths)
        assert s.new_versions == [] and s.unchanged == 3
        assert _landing_hashed(hashed) == sorted(Path(n).name for n in NAMES)
    assert not (paths.staging / arc.LANDING_CACHE).exists()
