"""Pulling deliveries from the offices' sources (inobhut.quellen) against a real SFTP server on
loopback (asyncssh, tests/helpers_sftp.py) and a real folder."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import asyncssh
import pytest

from inobhut import audit
from inobhut.archive import intake, list_versions
from inobhut.quellen import QuellenError, fetch_all, load_sources
from inobhut.quellen.fetch import read_state
from tests.helpers_sftp import SftpTestServer, free_port_nobody_listens_on

A, B, C = "08111", "08115", "08116"
MEMBERS = (A, B, C)


def write_sources(tmp_path: Path, body: str) -> Path:
    p = tmp_path / "quellen.toml"
    p.write_text(body, encoding="utf-8")
    return p


def sftp_entry(ags: str, server: SftpTestServer, *, pin: str | None = None, extra: str = "",
               auth: str = 'passwort_variable = "TEST_SFTP_PW"') -> str:
    pin = server.known_hosts_line if pin is None else pin
    hk = f'hostschluessel = "{pin}"\n' if pin else ""
    return (f'[jugendamt.{ags}]\nart = "sftp"\nhost = "127.0.0.1"\nport = {server.port}\nbenutzer = "{server.user}"\n'
            f'ordner = "/ausgang"\n{auth}\n{hk}zeitlimit_sekunden = 10\n{extra}\n')


@pytest.fixture
def remote(tmp_path, monkeypatch):
    root = tmp_path / "sftp_root"
    (root / "ausgang").mkdir(parents=True)
    monkeypatch.setenv("TEST_SFTP_PW", "geheim")
    with SftpTestServer(root) as srv:
        yield srv


def events(paths, kind):
    return [e for e in audit.read(paths.archive) if e["ereignis"] == kind]


def put(server: SftpTestServer, name: str, data: bytes, mtime: int | None = None) -> Path:
    p = server.root / "ausgang" / name
    p.write_bytes(data)
    if mtime is not None:
        os.utime(p, (mtime, mtime))
    return p


def test_sources_file_is_validated_with_german_messages(tmp_path):
    p = write_sources(tmp_path, """
[jugendamt.08111]
art = "sftp"
host = "sftp.example.org"
passwort = "klartext"
portt = 22
[jugendamt.99999]
art = "ordner"
ordner = "/mnt/x"
[jugendamt.08115]
art = "ftp"
[jugendamt.08116]
art = "sftp"
host = "h"
benutzer = "u"
ordner = "/o"
passwort_variable = "X"
hostschluessel = "das ist kein schluessel"
""")
    with pytest.raises(QuellenError) as exc:
        load_sources(p, MEMBERS)
    msg = str(exc.value)
    assert "Passwörter stehen nie in der Quellendatei" in msg
    assert "unbekannter Schlüssel „portt“" in msg
    assert "für art = „sftp“ fehlt „benutzer“" in msg and "fehlt „ordner“" in msg
    assert "„99999“ ist kein Mitglieds-Jugendamt" in msg
    assert "art = „ftp“" in msg
    assert "[jugendamt.08116] hostschluessel: keine gültige known_hosts-Zeile" in msg
    # no file configured: every office delivers into the landing zone itself
    assert {s.art for s in load_sources(None, MEMBERS).values()} == {"eingang"}


def test_new_unchanged_and_corrected_file_over_sftp(inobhut_env, remote, tmp_path):
    paths = inobhut_env
    sources = load_sources(write_sources(tmp_path, sftp_entry(A, remote)), MEMBERS)
    t0 = int(time.time()) - 100
    put(remote, f"{A}_massnahmen_2024-03.csv", b"a;b\n1;2\n", t0)
    put(remote, ".versteckt.csv", b"x", t0)
    put(remote, f"{A}_plaetze_2024-03.csv.part", b"wird noch geschrieben", t0)

    s1 = fetch_all(paths, sources=sources, lauf="r1")
    assert [(f.name, f.status) for f in s1.offices[0].dateien] == [(f"{A}_massnahmen_2024-03.csv", "abgerufen")]
    landed = paths.landing / A / f"{A}_massnahmen_2024-03.csv"
    assert landed.read_bytes() == b"a;b\n1;2\n"
    assert sorted(p.name for p in (paths.landing / A).iterdir()) == [landed.name]
    assert read_state(paths.archive, A)[landed.name]["groesse"] == 8
    assert intake(paths.landing, paths.archive, set(MEMBERS)).new_versions[0].version == 1

    # unchanged: not downloaded again, no new event, no new version
    s2 = fetch_all(paths, sources=sources, lauf="r2")
    assert [f.status for f in s2.offices[0].dateien] == ["unveraendert"]
    # only the time stamp changed: downloaded, compared, not a new version
    put(remote, f"{A}_massnahmen_2024-03.csv", b"a;b\n1;2\n", t0 + 10)
    s3 = fetch_all(paths, sources=sources, lauf="r3")
    assert [f.status for f in s3.offices[0].dateien] == ["unveraendert"]
    assert len(events(paths, "abgerufen")) == 1

    # corrected file (same name, new content): fetched once, then archived as version 2
    put(remote, f"{A}_massnahmen_2024-03.csv", b"a;b\n1;3\n", t0 + 20)
    s4 = fetch_all(paths, sources=sources, lauf="r4")
    assert [(f.status, f.grund) for f in s4.offices[0].dateien] == [("abgerufen", "Korrektur (geänderte Datei)")]
    assert landed.read_bytes() == b"a;b\n1;3\n"
    assert [v.version for v in intake(paths.landing, paths.archive, set(MEMBERS)).new_versions] == [2]
    assert fetch_all(paths, sources=sources).count("abgerufen") == 0
    ev = events(paths, "abgerufen")
    assert [(e["lauf"], e["ags"], e["datei"]) for e in ev] == [("r1", A, f"{A}/{landed.name}"), ("r4", A, f"{A}/{landed.name}")]
    assert ev[1]["sha256"] == list_versions(paths.archive, A)[-1].sha256
    assert (remote.root / "ausgang" / landed.name).exists()  # nothing deleted at the source by default


def test_key_login_and_delete_at_source_when_configured(inobhut_env, remote, tmp_path):
    paths = inobhut_env
    client_key = asyncssh.generate_private_key("ssh-ed25519")
    key_file = tmp_path / "geheim" / "id_ed25519"
    key_file.parent.mkdir()
    client_key.write_private_key(str(key_file))
    remote.client_pubkey = client_key.convert_to_public()
    remote.password = "niemand-kennt-es"
    sources = load_sources(write_sources(tmp_path, sftp_entry(A, remote, auth=f'schluessel_datei = "{key_file}"',
                                                              extra="loeschen_nach_abruf = true")), MEMBERS)
    put(remote, f"{A}_uma_2024-03.csv", b"x;y\n")
    s = fetch_all(paths, sources=sources)
    assert s.count("abgerufen") == 1 and not s.failed
    assert (paths.landing / A / f"{A}_uma_2024-03.csv").read_bytes() == b"x;y\n"
    assert not (remote.root / "ausgang" / f"{A}_uma_2024-03.csv").exists()


def test_connection_dropped_mid_transfer_leaves_no_partial_file_and_next_run_completes(inobhut_env, remote, tmp_path):
    paths = inobhut_env
    sources = load_sources(write_sources(tmp_path, sftp_entry(A, remote)), MEMBERS)
    big = os.urandom(600_000)
    put(remote, f"{A}_massnahmen_2024-03.csv", big)
    remote.drop_after = 150_000
    s1 = fetch_all(paths, sources=sources, lauf="r1")
    assert remote.dropped == 1
    assert s1.failed and "während des Abrufs abgebrochen" in s1.offices[0].fehler
    assert not (paths.landing / A).exists() or not any((paths.landing / A).iterdir())
    assert intake(paths.landing, paths.archive, set(MEMBERS)).new_versions == []
    assert read_state(paths.archive, A) == {}
    assert [e["ags"] for e in events(paths, "abruf_abgelehnt")] == [A]

    s2 = fetch_all(paths, sources=sources, lauf="r2")
    assert not s2.failed and s2.count("abgerufen") == 1
    assert (paths.landing / A / f"{A}_massnahmen_2024-03.csv").read_bytes() == big
    assert len(intake(paths.landing, paths.archive, set(MEMBERS)).new_versions) == 1


def test_wrong_password_is_refused(inobhut_env, remote, tmp_path, monkeypatch):
    paths = inobhut_env
    monkeypatch.setenv("TEST_SFTP_PW", "falsch")
    put(remote, f"{A}_uma_2024-03.csv", b"x")
    s = fetch_all(paths, sources=load_sources(write_sources(tmp_path, sftp_entry(A, remote)), MEMBERS))
    assert s.failed and "Anmeldung als „jugendamt“" in s.offices[0].fehler and "Passwort prüfen" in s.offices[0].fehler
    assert not (paths.landing / A).exists()
    assert "Anmeldung" in events(paths, "abruf_abgelehnt")[0]["detail"]


def test_unknown_host_key_is_refused_before_login(inobhut_env, remote, tmp_path):
    paths = inobhut_env
    put(remote, f"{A}_uma_2024-03.csv", b"x")
    other = asyncssh.generate_private_key("ssh-ed25519").export_public_key().decode().split()
    # no entry at all, and an entry for another host: both unknown
    for pin in ("", f"sftp.anderes-amt.example {other[0]} {other[1]}"):
        s = fetch_all(paths, sources=load_sources(write_sources(tmp_path, sftp_entry(A, remote, pin=pin)), MEMBERS))
        msg = s.offices[0].fehler
        assert "kein Hostschlüssel hinterlegt (unbekannter Server)" in msg
        assert remote.host_key.get_fingerprint("sha256") in msg  # the operator can compare it
        assert f"ssh-keyscan -p {remote.port} 127.0.0.1" in msg
    assert remote.logins == 0  # no password was ever sent
    assert not (paths.landing / A).exists()


def test_changed_host_key_is_refused_before_login(inobhut_env, remote, tmp_path):
    paths = inobhut_env
    sources = load_sources(write_sources(tmp_path, sftp_entry(A, remote)), MEMBERS)
    put(remote, f"{A}_uma_2024-03.csv", b"x")
    assert fetch_all(paths, sources=sources).count("abgerufen") == 1
    # the same address now answers with another host key (server replaced, or someone in between)
    remote.stop()
    put(remote, f"{A}_uma_2024-04.csv", b"y")
    with SftpTestServer(remote.root, port=remote.port) as impostor:
        s = fetch_all(paths, sources=sources)
        assert impostor.logins == 0  # no password was sent to it
    msg = s.offices[0].fehler
    assert "stimmt NICHT mit dem hinterlegten überein (geändert)" in msg and "Man-in-the-Middle" in msg
    assert impostor.host_key.get_fingerprint("sha256") in msg and remote.host_key.get_fingerprint("sha256") in msg
    assert sorted(p.name for p in (paths.landing / A).iterdir()) == [f"{A}_uma_2024-03.csv"]
    assert "geändert" in events(paths, "abruf_abgelehnt")[-1]["detail"]


def test_server_down_does_not_stop_the_other_offices(inobhut_env, remote, tmp_path):
    paths = inobhut_env
    folder = tmp_path / "freigabe_08116"
    folder.mkdir()
    (folder / f"{C}_plaetze_2024-03.csv").write_bytes(b"p\n")
    down = free_port_nobody_listens_on()
    body = (sftp_entry(A, remote).replace(f"port = {remote.port}", f"port = {down}")
            .replace(f"[127.0.0.1]:{remote.port}", f"[127.0.0.1]:{down}")
            + sftp_entry(B, remote) + f'[jugendamt.{C}]\nart = "ordner"\nordner = "{folder}"\n')
    put(remote, f"{B}_uma_2024-03.csv", b"u\n")
    s = fetch_all(paths, sources=load_sources(write_sources(tmp_path, body), MEMBERS))
    by = {o.ags: o for o in s.offices}
    assert "nicht erreichbar" in by[A].fehler
    assert by[B].ok and by[B].count("abgerufen") == 1 and by[C].ok and by[C].count("abgerufen") == 1
    assert (paths.landing / B / f"{B}_uma_2024-03.csv").exists() and (paths.landing / C / f"{C}_plaetze_2024-03.csv").exists()
    assert (folder / f"{C}_plaetze_2024-03.csv").exists()
    assert [e["ags"] for e in events(paths, "abruf_abgelehnt")] == [A]


def test_cli_abrufen_exit_codes(inobhut_env, remote, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from pipelines.cli import main

    put(remote, f"{A}_uma_2024-03.csv", b"x")
    monkeypatch.setenv("INOBHUT_QUELLEN", str(write_sources(tmp_path, sftp_entry(A, remote))))
    r = CliRunner().invoke(main, ["abrufen", "--jugendamt", A])
    assert r.exit_code == 0, r.output
    assert "1 abgerufen" in r.output
    monkeypatch.setenv("TEST_SFTP_PW", "falsch")
    put(remote, f"{A}_uma_2024-04.csv", b"y")
    r = CliRunner().invoke(main, ["abrufen"])
    assert r.exit_code == 1 and "Anmeldung" in r.output
    r = CliRunner().invoke(main, ["abrufen", "--jugendamt", "12345"])
    assert r.exit_code == 2 and "kein Mitglieds-Jugendamt" in r.output
    monkeypatch.setenv("INOBHUT_QUELLEN", str(write_sources(tmp_path, "[jugendamt.08111]\nart = 3\n")))
    r = CliRunner().invoke(main, ["abrufen"])
    assert r.exit_code == 2 and "Quellendatei" in r.output


def test_fetch_asset_before_intake_on_a_real_instance(inobhut_env, remote, tmp_path, monkeypatch):
    import dagster as dg

    from assets.raw.fetch import RAW_FETCH, fetch
    from assets.raw.intake import RAW_INTAKE
    from assets.raw.intake import intake as intake_asset
    from pipelines.resources import InobhutResource

    paths = inobhut_env
    down = free_port_nobody_listens_on()
    body = sftp_entry(A, remote) + sftp_entry(B, remote).replace(f"port = {remote.port}", f"port = {down}")
    monkeypatch.setenv("INOBHUT_QUELLEN", str(write_sources(tmp_path, body)))
    put(remote, f"{A}_uma_2024-03.csv", b"x;y\n")
    with dg.instance_for_test() as instance:
        res = dg.materialize([fetch, intake_asset], instance=instance, resources={"inobhut": InobhutResource.from_env()})
        assert res.success  # a source that is down does not fail the run: intake still runs
        meta = res.asset_materializations_for_node("raw__fetch")[0].metadata
        assert meta["abgerufen"].value == 1 and meta["abgelehnt"].value == 1
        assert "nicht erreichbar" in meta["einzelheiten"].value
        assert res.asset_materializations_for_node("raw__intake")[0].metadata["neue_versionen"].value == 1
        check = instance.event_log_storage.get_latest_asset_check_execution_by_key(
            [dg.AssetCheckKey(RAW_FETCH, "quellen")])[dg.AssetCheckKey(RAW_FETCH, "quellen")]
        ev = check.event.dagster_event.event_specific_data
        assert not ev.passed and ev.severity == dg.AssetCheckSeverity.WARN and B in ev.metadata["fehlgeschlagen"].value
        assert list_versions(paths.archive, A)[0].file_name == f"{A}_uma_2024-03.csv"
        kinds = [(e["ereignis"], e["lauf"]) for e in audit.read(paths.archive)]
        assert kinds[0] == ("lauf_start", res.run_id)
        assert ("abgerufen", res.run_id) in kinds and ("abruf_abgelehnt", res.run_id) in kinds
        # intake alone (e.g. the landing sensor's runs): intake records the run start
        res2 = dg.materialize([intake_asset], instance=instance, resources={"inobhut": InobhutResource.from_env()},
                              selection=[RAW_INTAKE])
        assert ("lauf_start", res2.run_id) in [(e["ereignis"], e["lauf"]) for e in audit.read(paths.archive)]


def test_the_documented_example_is_a_valid_sources_file(tmp_path):
    import re

    text = (Path(__file__).parent.parent / "docs" / "quellen.md").read_text(encoding="utf-8")
    example = re.search(r"```toml\n(.*?)```", text, re.DOTALL).group(1)
    sources = load_sources(write_sources(tmp_path, example), MEMBERS)
    assert [sources[a].art for a in MEMBERS] == ["sftp", "sftp", "ordner"]
    assert sources[B].port == 2222 and sources[C].loeschen_nach_abruf and not sources[A].loeschen_nach_abruf


def test_a_run_that_died_after_the_rename_is_completed_without_a_second_copy(inobhut_env, remote, tmp_path):
    paths = inobhut_env
    sources = load_sources(write_sources(tmp_path, sftp_entry(A, remote)), MEMBERS)
    put(remote, f"{A}_uma_2024-03.csv", b"x;y\n")
    # as if the previous run had renamed the file into the landing zone and died before the state
    (paths.landing / A).mkdir(parents=True)
    (paths.landing / A / f"{A}_uma_2024-03.csv").write_bytes(b"x;y\n")
    s = fetch_all(paths, sources=sources)
    assert [f.status for f in s.offices[0].dateien] == ["unveraendert"]
    assert read_state(paths.archive, A)[f"{A}_uma_2024-03.csv"]["sha256"] == events(paths, "abgerufen")[0]["sha256"]
    assert '"nachgetragen": true' in events(paths, "abgerufen")[0]["detail"]
    assert fetch_all(paths, sources=sources).count("unveraendert") == 1 and len(events(paths, "abgerufen")) == 1


def test_abruf_schedule_runs_the_fetch_alone_and_the_run_status_sensors_record_run_ends(inobhut_env, remote, tmp_path, monkeypatch):
    import dagster as dg

    from pipelines.audit_sensors import audit_run_failure, audit_run_success
    from pipelines.definitions import build_definitions
    from pipelines.schedule_abruf import abruf

    paths = inobhut_env
    with dg.instance_for_test() as instance:
        # no source configured: nothing to schedule
        monkeypatch.delenv("INOBHUT_QUELLEN", raising=False)
        assert isinstance(abruf(dg.build_schedule_context(instance=instance)), dg.SkipReason)
        monkeypatch.setenv("INOBHUT_QUELLEN", str(write_sources(tmp_path, sftp_entry(A, remote))))
        put(remote, f"{A}_uma_2024-03.csv", b"x;y\n")
        req = abruf(dg.build_schedule_context(instance=instance))
        assert isinstance(req, dg.RunRequest)
        job = build_definitions().resolve_job_def("abruf")
        res = job.execute_in_process(instance=instance, tags=req.tags)
        assert res.success
        assert (paths.landing / A / f"{A}_uma_2024-03.csv").exists()  # pending now for "nightly"
        assert not list_versions(paths.archive)  # intake is the nightly run's job
        mine = [(e["ereignis"], json.loads(e["detail"]).get("ergebnis") if e["detail"] else None)
                for e in audit.read(paths.archive) if e["lauf"] == res.run_id]
        assert mine[0][0] == "lauf_start" and mine[-1] == ("lauf_ende", "erfolgreich") and len([m for m in mine if m[0] == "lauf_ende"]) == 1
        # the daemon's success sensor adds nothing to a run that recorded its end ...
        run = instance.get_run_by_id(res.run_id)
        success = next(e for e in res.all_events if e.event_type_value == "PIPELINE_SUCCESS" or e.event_type_value == "RUN_SUCCESS")
        audit_run_success(dg.build_run_status_sensor_context(sensor_name="protokoll_lauf_beendet", dagster_event=success,
                                                             dagster_instance=instance, dagster_run=run))
        assert [e["ereignis"] for e in audit.read(paths.archive) if e["lauf"] == res.run_id].count("lauf_ende") == 1

        # ... and records the end of a failed run
        @dg.op
        def kaputt():
            raise RuntimeError("absichtlich")

        failed = dg.GraphDefinition("kaputt", node_defs=[kaputt]).to_job().execute_in_process(instance=instance, raise_on_error=False)
        fail_ev = next(e for e in failed.all_events if e.event_type_value in ("PIPELINE_FAILURE", "RUN_FAILURE"))
        ctx = dg.build_run_status_sensor_context(sensor_name="protokoll_lauf_fehlgeschlagen", dagster_event=fail_ev,
                                                 dagster_instance=instance, dagster_run=instance.get_run_by_id(failed.run_id))
        audit_run_failure(ctx.for_run_failure())
        end = [e for e in audit.read(paths.archive) if e["lauf"] == failed.run_id]
        assert [e["ereignis"] for e in end] == ["lauf_ende"] and json.loads(end[0]["detail"])["ergebnis"] == "fehlgeschlagen"


def test_a_full_landing_zone_is_named_as_such_and_leaves_no_partial_file(inobhut_env, remote, tmp_path, monkeypatch):
    from inobhut.quellen import fetch as fetch_mod

    paths = inobhut_env
    sources = load_sources(write_sources(tmp_path, sftp_entry(A, remote)), MEMBERS)
    put(remote, f"{A}_uma_2024-03.csv", b"x;y\n" * 1000)

    class FullDisk:  # the temporary file's writes fail as on a full disk
        def __init__(self, path, mode):
            self.fh = open(path, mode)  # noqa: SIM115

        def write(self, block):
            raise OSError(28, "No space left on device")

        def __getattr__(self, name):
            return getattr(self.fh, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.fh.close()

    monkeypatch.setattr(fetch_mod, "open", FullDisk, raising=False)
    s = fetch_all(paths, sources=sources)
    msg = s.offices[0].fehler
    assert "In die Eingangsablage" in msg and "No space left on device" in msg and "abgebrochen" not in msg
    assert not any(p.is_file() for p in paths.landing.rglob("*"))  # neither the file nor a .part
    assert read_state(paths.archive, A) == {}
    monkeypatch.delattr(fetch_mod, "open")
    assert fetch_all(paths, sources=sources).count("abgerufen") == 1
