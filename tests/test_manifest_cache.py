"""The checksum cache of ``manifest.json`` (inobhut.manifest): the same manifest bytes with and
without it, every content change found (also one of the same size with the old mtime restored),
an unusable cache ignored, and an unchanged rerun hashing no file."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from pathlib import Path

import pytest

from inobhut import manifest as mf
from inobhut.warehouse import Warehouse

FILES = {
    "berichte/index.html": "<p>Übersicht</p>\n",
    "berichte/landesbericht/BW/2024-05/landesbericht_BW_2024-05.html": "<p>BW</p>\n" * 40,
    "berichte/landesbericht/BW/2024-05/landesbericht_BW_2024-05.xlsx": "xlsx" * 300,
    "jugendaemter/08111/jugendamtsbericht/b.csv": "a;b\n1;2\n",
    "jugendaemter/08111/a.json": '{"x": "ä\\n\\"q\\""}',
    "tabellen/bewegung.csv": "monat;zugang\n2024-05;3\n",
    "tabellen/Zeichen ä ß \t neu.csv": "x\n",
    "top.txt": "oben\n",
    "unter/.versteckt/sichtbar.txt": "liegt unter einem Punktordner\n",
    # not outputs
    ".versteckt": "x", "tabellen/.tabelle.csv.123-0a1b2c3d.tmp": "x",
    ".eingaben/berichte/index.html.eingaben": "fp\n", "gx_data_docs/index.html": "x", "protokoll/p.html": "x",
    "betrieb/fehler.log": "x",
}


@pytest.fixture
def env(inobhut_env):
    paths = inobhut_env
    for rel, text in FILES.items():
        p = paths.out / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
    return paths, Warehouse(paths.warehouse)


@pytest.fixture
def hashed(monkeypatch):
    """The files the manifest hashes, call by call."""
    calls: list[str] = []
    real = mf.sha256_file

    def counting(path, *a, **k):
        calls.append(Path(path).name)
        return real(path, *a, **k)

    monkeypatch.setattr(mf, "sha256_file", counting)
    return calls


def _after_a_tick(out: Path) -> None:
    """Wait until the file system's clock is past every timestamp under ``out`` (a few ms: it
    ticks coarsely): entries stored afterwards are not racily clean, so they are reused."""
    newest = max(max(p.stat().st_mtime_ns, p.stat().st_ctime_ns) for p in out.rglob("*"))
    probe = out.parent / "uhr"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        probe.write_bytes(b"")
        stamp = probe.stat().st_ctime_ns
        probe.unlink()
        if stamp > newest:
            return
        time.sleep(0.002)
    raise AssertionError("the file system clock does not move")


def _reference(out: Path) -> list[dict]:
    """``ausgaben`` as inobhut wrote them before the cache: os.walk, every file hashed."""
    res = []
    for root, dirs, names in os.walk(out):
        if Path(root) == out:
            dirs[:] = [d for d in dirs if d not in mf.EXCLUDED_DIRS]
        dirs.sort()
        for n in sorted(names):
            p = Path(root) / n
            if p.name == mf.MANIFEST and p.parent == out or n.startswith("."):
                continue
            res.append({"datei": p.relative_to(out).as_posix(), "sha256": hashlib.sha256(p.read_bytes()).hexdigest(),
                        "bytes": p.stat().st_size})
    return res


def _manifest(paths, wh) -> bytes:
    mf.write_manifest(paths, wh)
    return (paths.out / mf.MANIFEST).read_bytes()


def _listed(data: bytes) -> dict[str, str]:
    return {o["datei"]: o["sha256"] for o in json.loads(data)["ausgaben"]}


def test_same_manifest_with_and_without_cache(env, hashed):
    paths, wh = env
    os.symlink(paths.out / "tabellen", paths.out / "verweis_ordner")  # a link to a folder: not followed
    os.symlink(paths.out / "top.txt", paths.out / "berichte" / "verweis.txt")  # a link to a file: listed
    first = _manifest(paths, wh)
    doc = json.loads(first)
    assert doc["ausgaben"] == _reference(paths.out)
    assert "unter/.versteckt/sichtbar.txt" in _listed(first) and ".eingaben/berichte/index.html.eingaben" not in first.decode()
    # the bytes json.dumps writes (the manifest's writer is a faster equivalent)
    assert first.decode("utf-8") == json.dumps(doc, ensure_ascii=False, indent=1) + "\n"
    assert mf.cache_path(paths).is_file() and not list(paths.out.glob(".manifest.json.*"))  # no marker left
    _after_a_tick(paths.out)
    assert _manifest(paths, wh) == first  # with the cache
    assert _manifest(paths, wh) == first  # from the cache, nothing hashed
    mf.cache_path(paths).unlink()
    n = len(hashed)
    assert _manifest(paths, wh) == first  # without it
    assert len(hashed) - n == len(doc["ausgaben"])


def test_second_run_on_unchanged_outputs_hashes_no_file(env, hashed):
    paths, wh = env
    _after_a_tick(paths.out)
    first = _manifest(paths, wh)
    assert len(hashed) == len(_listed(first))
    hashed.clear()
    cache = mf.cache_path(paths)
    stored = cache.stat()
    assert _manifest(paths, wh) == first
    assert hashed == []
    assert (cache.stat().st_ino, cache.stat().st_mtime_ns) == (stored.st_ino, stored.st_mtime_ns)  # nothing to store

    # cost follows the changed data: a new, a replaced and a removed output -- two files hashed
    (paths.out / "tabellen" / "neu.csv").write_text("neu\n", encoding="utf-8")
    victim = paths.out / "berichte" / "index.html"
    tmp = victim.with_name(".index.html.tmp")
    tmp.write_text("<p>neu</p>\n", encoding="utf-8")
    os.replace(tmp, victim)
    (paths.out / "top.txt").unlink()
    listed = _listed(_manifest(paths, wh))
    assert sorted(hashed) == ["index.html", "neu.csv"]
    assert listed["berichte/index.html"] == hashlib.sha256(b"<p>neu</p>\n").hexdigest()
    entries = json.loads(cache.read_bytes())["dateien"]
    assert set(entries) == set(listed) and "top.txt" not in entries  # the removed file left the cache


def test_same_size_change_with_old_mtime_restored_is_found(env, hashed):
    """ctime (and, for a replacement, the inode) tell the change: size and mtime alone would not."""
    paths, wh = env
    in_place = paths.out / "tabellen" / "bewegung.csv"
    replaced = paths.out / "jugendaemter" / "08111" / "a.json"
    old = {p: p.stat() for p in (in_place, replaced)}
    _after_a_tick(paths.out)
    first = _listed(_manifest(paths, wh))
    _after_a_tick(paths.out)
    assert _listed(_manifest(paths, wh)) == first  # the cache holds trusted entries now

    with open(in_place, "r+b") as fh:  # same inode, same size, other bytes
        data = fh.read()
        fh.seek(0)
        fh.write(data.replace(b"3", b"4"))
    tmp = replaced.with_name(".a.json.tmp")  # a new inode, same size, other bytes
    tmp.write_bytes(replaced.read_bytes().replace(b"x", b"y"))
    os.replace(tmp, replaced)
    for p, st in old.items():
        os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))
        assert (p.stat().st_size, p.stat().st_mtime_ns) == (st.st_size, st.st_mtime_ns)
    hashed.clear()
    listed = _listed(_manifest(paths, wh))
    assert sorted(hashed) == ["a.json", "bewegung.csv"]
    for p in (in_place, replaced):
        rel = p.relative_to(paths.out).as_posix()
        assert listed[rel] == hashlib.sha256(p.read_bytes()).hexdigest() != first[rel]


def test_racily_clean_entries_are_hashed_again(env, hashed):
    """An entry not strictly older than the cache's time is not trusted."""
    paths, wh = env
    _after_a_tick(paths.out)
    first = _manifest(paths, wh)
    cache = mf.cache_path(paths)
    doc = json.loads(cache.read_bytes())
    racy = paths.out / "tabellen" / "bewegung.csv"
    doc["stand_ns"] = racy.stat().st_ctime_ns  # as if the cache had been written in the file's tick
    cache.write_text(json.dumps(doc), encoding="utf-8")
    hashed.clear()
    assert _manifest(paths, wh) == first
    assert "bewegung.csv" in hashed


@pytest.mark.parametrize("content", [
    b"{nicht json", b"", b"\xff\xfe", b"[]", b'{"format": 1}', b'{"format": 99, "stand_ns": 1, "dateien": {}}',
    b'{"format": 1, "ausgabe": null, "stand_ns": "x", "dateien": []}', b"[" * 100000,
])
def test_unusable_cache_is_ignored(env, hashed, content):
    paths, wh = env
    _after_a_tick(paths.out)
    first = _manifest(paths, wh)
    n = len(hashed)
    mf.cache_path(paths).write_bytes(content)
    hashed.clear()
    assert _manifest(paths, wh) == first
    assert len(hashed) == n  # everything hashed again
    assert json.loads(mf.cache_path(paths).read_bytes())["format"] == mf.CACHE_FORMAT  # and a usable cache stored


def test_bad_entries_and_another_out_are_not_trusted(env, hashed, tmp_path):
    paths, wh = env
    _after_a_tick(paths.out)
    first = _manifest(paths, wh)
    cache = mf.cache_path(paths)
    doc = json.loads(cache.read_bytes())
    d = doc["dateien"]
    d["top.txt"] = d["top.txt"][:-64] + "0" * 64  # a wrong checksum with the file's identity: would be used ...
    d["berichte/index.html"] = d["berichte/index.html"][:-64] + "Z" * 64  # ... but not one that is none
    d["tabellen/bewegung.csv"] = ["kein", "Text"]
    cache.write_text(json.dumps(doc), encoding="utf-8")
    hashed.clear()
    listed = _listed(_manifest(paths, wh))
    assert sorted(hashed) == ["bewegung.csv", "index.html"]
    assert listed["top.txt"] == "0" * 64  # (the cache is trusted like git's index; it lives outside out)

    # a copy of out elsewhere with the same staging: the cache names another out, so it is not used
    from inobhut.config import Paths

    cache.unlink()
    mf.write_manifest(paths, wh)
    copy = Paths(paths.landing, paths.archive, paths.staging, paths.warehouse, tmp_path / "kopie")
    shutil.copytree(paths.out, copy.out, symlinks=True)
    hashed.clear()
    assert _manifest(copy, wh) == first
    assert len(hashed) == len(_listed(first))


def test_unwritable_cache_place_does_not_fail_the_manifest(env, monkeypatch):
    paths, wh = env
    paths.staging.parent.mkdir(parents=True, exist_ok=True)
    paths.staging.write_text("eine Datei, kein Ordner")
    first = _manifest(paths, wh)
    assert json.loads(first)["ausgaben"] == _reference(paths.out)


@pytest.mark.parametrize("value", [
    {}, [], {"a": {}}, {"a": []}, {"a": [[], {}, [{}]]},
    {"s": "ä\n\t\"\\/\u2028\x00\x1f€😀", "i": -3, "b": True, "f": False, "n": None, "x": 1.5, "e": 1e-300, "g": 1e22},
    {"nan": float("nan"), "inf": [float("inf"), -float("inf")], "tuple": (1, "a"), "keys": {1: "a", 2.5: "b", None: 1, False: 2}},
    {"nested": [{"lieferungen": [{"jugendamt": "08111", "version": 2, "in_kraft": True}]}, "x", 3]},
])
def test_manifest_text_equals_json_dumps(value):
    doc = {"produkt": "inobhut", "ausgaben": [("a/ä \"b\".csv", "0" * 64, 12), ("c", "f" * 64, 0)], "wert": value}
    expected = dict(doc, ausgaben=[{"datei": f, "sha256": h, "bytes": n} for f, h, n in doc["ausgaben"]])
    assert mf.manifest_text(doc) == json.dumps(expected, ensure_ascii=False, indent=1) + "\n"
    assert mf.manifest_text({"ausgaben": []}) == json.dumps({"ausgaben": []}, indent=1) + "\n"


@pytest.mark.parametrize("window", [150, 400, 1000, 5000, 32 << 20])
def test_record_outputs_skips_versions_in_the_journal_tail_exactly_as_before(inobhut_env, monkeypatch, window):
    """``record_outputs`` decodes only the journal lines with a checksum it records, and finds the
    same versions already recorded as decoding the whole tail (``audit._tail_events``) does."""
    from inobhut import audit

    paths = inobhut_env
    h = [hashlib.sha256(str(i).encode()).hexdigest() for i in range(8)]
    audit.record_many(paths.archive, [
        dict(ereignis="ausgabe", datei="a.html", sha256=h[0], detail={"bytes": 1}),
        dict(ereignis="urteil", datei="b.html", sha256=h[1]),  # not an ausgabe event
        dict(ereignis="ausgabe", datei="b.html", sha256=h[2], detail={"text": f'"sha256": "{h[3]}"'}),
        dict(ereignis="ausgabe", datei="c.html", sha256=h[4]),
        dict(ereignis="ausgabe", datei="d.html", sha256=h[5], detail="x" * 300),
    ])
    with open(audit.journal_path(paths.archive), "a", encoding="utf-8") as fh:  # a line cut by a crash
        fh.write(json.dumps({"seq": 99, "ereignis": "ausgabe", "datei": "e.html", "sha256": h[6]})[:-3])
    monkeypatch.setattr(audit, "ONCE_WINDOW", window)
    files = [("a.html", h[0], 1), ("b.html", h[1], 1), ("b.html", h[2], 1), ("x.html", h[3], 1), ("c.html", h[0], 1),
             ("c.html", h[4], 1), ("d.html", h[5], 1), ("e.html", h[6], 1), ("f.html", h[7], 1)]
    tail = [e for e in audit._tail_events(audit.journal_path(paths.archive), window) if e.get("ereignis") == "ausgabe"]
    seen = {(e.get("datei"), e.get("sha256")) for e in tail}
    assert mf._recorded(paths, {x[1] for x in files}) == seen & {(f, s) for f, s, _ in files}
    if window > 5000:
        assert seen == {("a.html", h[0]), ("b.html", h[2]), ("c.html", h[4]), ("d.html", h[5])}
    n = len(audit.read(paths.archive))
    mf.record_outputs(paths, files)
    new = [(e["datei"], e["sha256"]) for e in audit.read(paths.archive)[n:]]
    assert new == [(f, s) for f, s, _ in files if (f, s) not in seen]


def test_the_previous_manifest_is_parsed_once_at_the_end_of_a_run(env, monkeypatch):
    """finish_outputs reads the previous manifest for the front page, the comparison base and the
    changed outputs: parsed once, and afresh for every new version of the file; outside the end
    of a run nothing is kept."""
    from inobhut import overview
    from inobhut.report_run import finish_outputs

    paths, wh = env
    finish_outputs(paths, wh, "lauf-1")
    parsed: list[int] = []
    real = overview.json.loads
    monkeypatch.setattr(overview, "json", type("J", (), {"loads": staticmethod(lambda t: (parsed.append(len(t)), real(t))[1])}))
    (paths.out / "berichte" / "neu.html").write_text("<p>neu</p>\n", encoding="utf-8")
    finish_outputs(paths, wh, "lauf-2")
    assert len(parsed) == 1
    assert [e["datei"] for e in audit_events(paths, "ausgabe", "lauf-2")] == ["berichte/neu.html"]

    with overview.manifest_read_once():
        a = overview.read_manifest(paths.out)
        assert overview.read_manifest(paths.out) is a and len(parsed) == 2
        # a new version of the manifest (replaced, or rewritten in place) is read afresh
        target = paths.out / mf.MANIFEST
        text = target.read_text(encoding="utf-8")
        target.write_text(text.replace('"produkt": "inobhut"', '"produkt": "inobhut", "x": 1'), encoding="utf-8")
        b = overview.read_manifest(paths.out)
        assert b is not a and b["x"] == 1 and len(parsed) == 3
        target.write_text(text, encoding="utf-8")
        assert overview.read_manifest(paths.out) == a and len(parsed) == 4
    assert overview.read_manifest(paths.out) is not overview.read_manifest(paths.out)  # nothing kept outside


def audit_events(paths, ereignis: str, lauf: str) -> list[dict]:
    from inobhut import audit

    return [e for e in audit.read(paths.archive) if e["ereignis"] == ereignis and e["lauf"] == lauf]
