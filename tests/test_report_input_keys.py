"""Lieferstatus and Jahresbericht are not even built while their inputs are unchanged (input key
beside the model fingerprint, inobhut.outputs.render_if_inputs_changed): a rerun builds none of
them and writes nothing; a change rebuilds exactly the reports that depend on it, and the files
then equal a fresh full render of the same data."""

from __future__ import annotations

import datetime as dt
import warnings
from collections import Counter

import pytest

from tests.helpers_fixtures import generated_warehouse_copy

OFFICES = ("01053", "01056")  # SH-KOOP; BW's reports show its offices' deliveries as missing
VON, BIS = "2023-11", "2024-02"  # two years: the Jahresbericht 2024 compares with 2023 (data set of test_tidy_export)
MONTHS = ["2023-11", "2023-12", "2024-01", "2024-02"]


@pytest.fixture
def setup(tmp_path, monkeypatch):
    """A copy of a generated warehouse, its Paths (own out and staging) and a log of builds."""
    from inobhut.config import Paths
    from inobhut.reports import network
    from inobhut.warehouse import Warehouse

    warnings.filterwarnings("ignore")
    monkeypatch.delenv("INOBHUT_CONFIG", raising=False)  # the settings the warehouse was made with
    target = generated_warehouse_copy(tmp_path / "warehouse.duckdb", OFFICES, VON, BIS, seed=8).path
    paths = Paths(tmp_path / "landing", tmp_path / "archive", tmp_path / "staging", target, tmp_path / "out")
    builds: Counter = Counter()

    def counting(name, kind, verbund_arg, period_arg):
        real = getattr(network, name)

        def wrapper(*args, **kwargs):
            builds[(kind, args[verbund_arg], args[period_arg])] += 1  # (kind, verbund, month or year)
            return real(*args, **kwargs)

        monkeypatch.setattr(network, name, wrapper)

    counting("build_lieferstatus", "lieferstatus", 1, 2)
    counting("build_jahresbericht", "jahresbericht", 3, 4)
    yield Warehouse(target), paths, builds


def _tree(out):
    """Every file below <out> (outputs, fingerprints and input keys): bytes, mtime and inode."""
    return {p.relative_to(out).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns, p.stat().st_ino)
            for p in sorted(out.rglob("*")) if p.is_file()}


def _fresh(paths, wh, today, tmp):
    """A full render of the same data into a new output folder (no fingerprints, no keys)."""
    from inobhut.config import Paths
    from inobhut.report_run import render_all_other_reports

    fresh = Paths(paths.landing, paths.archive, paths.staging, paths.warehouse, tmp)
    render_all_other_reports(fresh, wh, today=today)
    return {k: v[0] for k, v in _tree(tmp).items()}


def _render(paths, wh, today, builds):
    from inobhut.report_run import render_all_other_reports

    builds.clear()
    return render_all_other_reports(paths, wh, today=today)


def _assert_as_fresh(paths, wh, today, tmp):
    assert {k: v[0] for k, v in _tree(paths.out).items()} == _fresh(paths, wh, today, tmp)


def _expected_builds(kind, verbund, *periods):
    return Counter({(kind, verbund, p): 1 for p in periods})


def test_unchanged_inputs_build_nothing(setup):
    from inobhut.report_run import other_report_models
    from inobhut.status import due_date

    wh, paths, builds = setup
    today = due_date(MONTHS[-1])
    first = _render(paths, wh, today, builds)
    assert sorted(builds) == sorted([("lieferstatus", v, m) for v in ("BW", "SH-KOOP") for m in MONTHS]
                                    + [("jahresbericht", v, y) for v in ("BW", "SH-KOOP") for y in ("2023", "2024")])
    before = _tree(paths.out)
    again = _render(paths, wh, today, builds)
    assert builds == Counter()  # no Lieferstatus, no Jahresbericht built
    assert len(list(paths.out.joinpath(".eingaben").rglob("*.quelle"))) == 12  # their input keys
    assert again == first  # every file is still returned
    assert _tree(paths.out) == before  # nothing written: same bytes, mtime and inode
    # another day on which the same months are overdue: still nothing (the day counts only as "overdue")
    _render(paths, wh, today + dt.timedelta(days=-3), builds)
    assert builds == Counter()
    # the generator for other callers still builds every model
    kinds = Counter(m.kind for m, _ in other_report_models(paths, wh, today))
    assert kinds == {"lieferstatus": 8, "jahresbericht": 4, "platzuebersicht": 2, "strategiebericht": 2}


def test_changes_rebuild_exactly_what_depends_on_them(setup, tmp_path):
    from inobhut.landing import Unassignable, save_state
    from inobhut.status import due_date

    wh, paths, builds = setup
    today = due_date(MONTHS[-1])  # the newest month is due today: not yet overdue
    _render(paths, wh, today, builds)

    # the day after the newest month's due date: its Lieferstatus shows „überfällig“
    today += dt.timedelta(days=1)
    _render(paths, wh, today, builds)
    assert builds == _expected_builds("lieferstatus", "BW", MONTHS[-1]) + _expected_builds("lieferstatus", "SH-KOOP", MONTHS[-1])
    _assert_as_fresh(paths, wh, today, tmp_path / "f1")

    # one delivery's check summary changes (one office-month of SH-KOOP): its Lieferstatus only
    with wh.connect() as con:
        con.execute("""UPDATE deliveries SET n_hinweise = coalesce(n_hinweise, 0) + 1
                       WHERE ags = '01053' AND dataset = 'uma' AND monat = '2023-12'
                       AND version = (SELECT max(version) FROM deliveries
                                      WHERE ags = '01053' AND dataset = 'uma' AND monat = '2023-12')""")
    _render(paths, wh, today, builds)
    assert builds == _expected_builds("lieferstatus", "SH-KOOP", "2023-12")
    _assert_as_fresh(paths, wh, today, tmp_path / "f2")

    # an ended measure of 2023 in SH-KOOP changes: the Jahresbericht 2023 and 2024 (previous year) of SH-KOOP
    with wh.connect() as con:
        fall, monat = con.execute("""SELECT fall_id, monat FROM massnahmen WHERE jugendamt = '01053'
                                     AND ende IS NOT NULL AND strftime(ende, '%Y-%m') = monat AND monat < '2024'
                                     ORDER BY monat, fall_id LIMIT 1""").fetchone()
        con.execute("""UPDATE massnahmen SET geschlecht = CASE WHEN geschlecht = 'w' THEN 'm' ELSE 'w' END
                       WHERE jugendamt = '01053' AND fall_id = ? AND monat = ?""", [fall, monat])
    _render(paths, wh, today, builds)
    assert builds == _expected_builds("jahresbericht", "SH-KOOP", "2023", "2024")
    _assert_as_fresh(paths, wh, today, tmp_path / "f3")

    # an unassignable file of a BW office and month: that Lieferstatus only
    save_state(paths.staging, [Unassignable(path="08111/liste_2024-01.csv", reason="Name nicht erkannt",
                                            ags="08111", month="2024-01")])
    _render(paths, wh, today, builds)
    assert builds == _expected_builds("lieferstatus", "BW", "2024-01")
    _assert_as_fresh(paths, wh, today, tmp_path / "f4")

    # an output file deleted: that report only, rendered again as before
    victim = next(paths.out.rglob("jahresbericht_BW_2024.xlsx"))
    victim.unlink()
    _render(paths, wh, today, builds)
    assert builds == _expected_builds("jahresbericht", "BW", "2024")
    assert victim.exists()
    _assert_as_fresh(paths, wh, today, tmp_path / "f5")


def test_a_failed_render_is_built_again(setup, tmp_path, monkeypatch):
    """The key is removed before building and stored after the files: a render that fails (a
    crash, a refused release) leaves no key, so the next run builds the report again."""
    import inobhut.reports
    from inobhut.outputs import input_key_path
    from inobhut.status import due_date

    wh, paths, builds = setup
    today = due_date(MONTHS[-1])
    _render(paths, wh, today, builds)
    real = inobhut.reports.render_report

    def failing(model, base):
        if model.kind == "lieferstatus":
            raise RuntimeError("Absturz beim Schreiben")
        return real(model, base)

    monkeypatch.setattr(inobhut.reports, "render_report", failing)
    today += dt.timedelta(days=1)  # the newest month's Lieferstatus changes
    with pytest.raises(RuntimeError):
        _render(paths, wh, today, builds)
    base = next(paths.out.rglob(f"lieferstatus_BW_{MONTHS[-1]}.html")).with_suffix("")
    assert not input_key_path(base).exists()
    monkeypatch.setattr(inobhut.reports, "render_report", real)
    _render(paths, wh, today, builds)
    assert builds == _expected_builds("lieferstatus", "BW", MONTHS[-1]) + _expected_builds("lieferstatus", "SH-KOOP", MONTHS[-1])
    _assert_as_fresh(paths, wh, today, tmp_path / "f")
