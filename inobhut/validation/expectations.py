"""Running the Great Expectations suite (``schemas/gx_suites.py``) over a batch of deliveries.

Belongs here: the ephemeral GX context (no telemetry, no project directory), building the two
frames per dataset from many delivery versions at once (``zeilen``: all rows with a
``_lieferung`` label; ``kennzahlen``: one row per version with its shares), running one
checkpoint per dataset and turning unexpected rows back into findings of the right version,
row and column. Optionally the results go into ONE Data Docs site (``<out>/gx_data_docs/``)
whose validation-result store is a directory beside it, so that every office-asset run adds
its results to the same site instead of building its own.

Not here: which expectation implements which rule (``schemas/gx_suites.py``), the rule texts
(``schemas/rules.yaml``), the per-file checks (:mod:`inobhut.validation.checks`).

GX is imported lazily (it costs seconds) and only after ``GX_ANALYTICS_ENABLED=false`` is set.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from inobhut.validation.rules import Finding, make_finding, mask
from schemas.datasets import DATASETS
from schemas.gx_suites import specs_for, suite_name

DOCS_DIRNAME = "gx_data_docs"
RESULTS_DIRNAME = ".ergebnisse"  # validation results (JSON) of the Data Docs site
PAGES_DIRNAME = "validations"  # GX's folder of the rendered result pages in the site
_ANLASS_14 = re.compile(r"(?:^|,)14(?:,|$)")


@dataclass
class Item:
    """One delivery version as GX sees it (pseudonymised frame, delivered values for quoting)."""

    ags: str
    dataset: str
    frame: pd.DataFrame  # canonical columns, fall_id instead of fallnummer, _zeile
    raw: pd.DataFrame | None  # delivered values (text), same index as frame
    findings: list[Finding] = field(default_factory=list)  # GX findings are appended here


@dataclass
class GxRun:
    """What one batch run did (for logging and the asset check metadata)."""

    validations: int = 0  # GX validation definitions run
    versions: int = 0
    unexpected: dict[str, int] = field(default_factory=dict)  # rule id -> findings
    docs_index: Path | None = None


def _gx():
    os.environ["GX_ANALYTICS_ENABLED"] = "false"
    import great_expectations as gx

    return gx


def _context(docs_dir: Path | None):
    gx = _gx()
    from great_expectations.data_context.types.base import DataContextConfig, InMemoryStoreBackendDefaults

    cfg = DataContextConfig(store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
                            analytics_enabled=False)
    cfg.progress_bars = {"globally": False}
    if docs_dir is not None:
        docs_dir.mkdir(parents=True, exist_ok=True)
        fs = lambda sub: {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir / sub)}  # noqa: E731
        cfg.stores["validation_results_store"] = {"class_name": "ValidationResultsStore", "store_backend": fs(RESULTS_DIRNAME)}
        cfg.stores["expectations_store"] = {"class_name": "ExpectationsStore", "store_backend": fs(".suiten")}
        cfg.data_docs_sites = {"inobhut": {
            "class_name": "SiteBuilder", "show_how_to_buttons": False,
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir)},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        }}
    return gx, gx.get_context(project_config=cfg, mode="ephemeral")


_SHARED: tuple | None = None
_CALLS = 0


def _shared_context():
    """The process's ephemeral GX context without Data Docs (created on first use)."""
    global _SHARED
    if _SHARED is None:
        _SHARED = _context(None)
    return _SHARED


def warm_up() -> None:
    """Import Great Expectations and create the shared context now (about 2.5 s of imports), e.g.
    while worker processes read the deliveries (:func:`inobhut.parallel.parallel`'s ``meanwhile``)."""
    _shared_context()


def _shares(it: Item) -> dict[str, float]:
    df, n = it.frame, len(it.frame)
    out = {"anteil_geschlecht_o": 0.0, "anteil_anlass_14": 0.0, "anteil_fremdes_jugendamt": 0.0}
    if "geschlecht" in df.columns:
        out["anteil_geschlecht_o"] = 100.0 * float((df["geschlecht"] == "o").fillna(False).sum()) / n
    if "anlaesse" in df.columns:
        vals = df["anlaesse"].to_numpy(dtype=object, na_value=None)
        out["anteil_anlass_14"] = 100.0 * sum(1 for v in vals if v and _ANLASS_14.search(v)) / n
    ja = df["jugendamt"].dropna()
    if len(ja):
        out["anteil_fremdes_jugendamt"] = 100.0 * float((ja != it.ags).sum()) / len(ja)
    return out


def _frames(items: Sequence[Item], dataset: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The two GX frames of a batch: the key rows of every version (labelled ``_lieferung`` = its
    position in ``items``) and one row of counts and shares per version. Built on all versions at
    once (a pandas selection per version cost more than GX itself at M)."""
    ds = DATASETS[dataset]
    keycols = ["fall_id" if c == "fallnummer" else c for c in ds.key]
    kz_cols = ["_lieferung", "_zeile", "zeilen", "anteil_geschlecht_o", "anteil_anlass_14", "anteil_fremdes_jugendamt"]
    used = [(i, it) for i, it in enumerate(items) if len(it.frame)]  # a nil return (Fehlanzeige) has neither keys nor shares
    if not used:
        zeilen = pd.DataFrame(columns=["_lieferung", *keycols, "_zeile"])
        return zeilen.astype({c: object for c in zeilen.columns if c != "_zeile"}).astype({"_zeile": "int64"}), \
            pd.DataFrame(columns=kz_cols)
    wanted = [*keycols, "_zeile", "jugendamt", "geschlecht", "anlaesse"]
    big = pd.concat([it.frame[[c for c in wanted if c in it.frame.columns]] for _, it in used], ignore_index=True)
    for c in ("geschlecht", "anlaesse"):
        if c not in big.columns:
            big[c] = None
    lengths = np.array([len(it.frame) for _, it in used])
    pos = np.repeat(np.arange(len(used)), lengths)  # row -> position in used
    labels = np.array([str(i) for i, _ in used], dtype=object)
    keep = big[keycols].notna().all(axis=1).to_numpy()  # missing keys are Z001 already
    zeilen = big.loc[keep, [*keycols, "_zeile"]].assign(_lieferung=labels[pos[keep]]).reset_index(drop=True)
    # GX works on plain object/number columns; the nullable pandas dtypes are not needed here
    zeilen = zeilen.astype({c: object for c in zeilen.columns if c != "_zeile"})
    zeilen["_zeile"] = zeilen["_zeile"].astype("int64")
    # shares per version, counted in one pass over all rows
    o = (big["geschlecht"] == "o").fillna(False).to_numpy(dtype=bool)
    a14 = np.array([bool(v) and bool(_ANLASS_14.search(v)) for v in big["anlaesse"].to_numpy(dtype=object, na_value=None)],
                   dtype=bool)
    ja_ok = big["jugendamt"].notna().to_numpy()
    ags_of_row = np.array([it.ags for _, it in used], dtype=object)[pos]
    ja_other = ja_ok & (big["jugendamt"].to_numpy(dtype=object, na_value=None) != ags_of_row)
    n_o, n_a14 = np.bincount(pos, weights=o, minlength=len(used)), np.bincount(pos, weights=a14, minlength=len(used))
    n_ja, n_other = np.bincount(pos, weights=ja_ok, minlength=len(used)), np.bincount(pos, weights=ja_other, minlength=len(used))
    kz = [{"_lieferung": labels[k], "_zeile": 0, "zeilen": int(lengths[k]),
           "anteil_geschlecht_o": 100.0 * float(n_o[k]) / lengths[k], "anteil_anlass_14": 100.0 * int(n_a14[k]) / lengths[k],
           "anteil_fremdes_jugendamt": 100.0 * float(int(n_other[k])) / int(n_ja[k]) if n_ja[k] else 0.0}
          for k in range(len(used))]
    return zeilen, pd.DataFrame(kz, columns=kz_cols)


def _pct(x: float) -> str:
    return f"{x:.1f}".replace(".", ",")


def _raw(it: Item, col: str, idx: Any) -> str:
    if it.raw is None or col not in it.raw.columns:
        v = it.frame.at[idx, col]
    else:
        v = it.raw.at[idx, col]
    return "" if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)) else str(v)


def _duplicate_findings(it: Item, zeilen: list[int]) -> list[Finding]:
    ds = DATASETS[it.dataset]
    keycols = ["fall_id" if c == "fallnummer" else c for c in ds.key]
    headers = " und ".join(ds.column(c).header for c in ds.key)
    by_zeile = {int(z): i for i, z in zip(it.frame.index, it.frame["_zeile"])}
    firsts: dict[tuple, int] = {}
    out = []
    for z in sorted(set(zeilen)):
        idx = by_zeile[z]
        k = tuple(it.frame.at[idx, c] for c in keycols)
        if k not in firsts:
            firsts[k] = z
            continue
        if ds.key == ("fallnummer",):
            wert = mask(_raw(it, "fallnummer", idx)) if it.raw is not None and "fallnummer" in it.raw.columns else "***"
        else:
            wert = " / ".join(_raw(it, c, idx) for c in ds.key)
        out.append(make_finding("S001", z, ds.column(ds.key[0]).header, wert, schluessel=headers, andere=firsts[k]))
    return out


def _summary_finding(rule: str, it: Item, row: pd.Series, pr: dict) -> Finding:
    if rule == "S002":
        vals = sorted(set(it.frame["jugendamt"].dropna()))
        return make_finding("S002", None, "Jugendamt", ", ".join(vals[:3]), ags=it.ags)
    if rule == "S105":
        return make_finding("S105", None, "Geschlecht", None, anteil=_pct(row["anteil_geschlecht_o"]),
                            schwelle=pr["anteil_geschlecht_o_pct"])
    if rule == "S106":
        return make_finding("S106", None, "Anlaesse", None, anteil=_pct(row["anteil_anlass_14"]),
                            schwelle=pr["anteil_anlass_14_pct"])
    raise KeyError(rule)


def run_expectations(items: Sequence[Item], settings: dict, *, docs_dir: Path | None = None,
                     run_name: str | None = None, run_time=None) -> GxRun:
    """Validate ``items`` with one GX checkpoint per dataset; findings are appended to each item.

    ``docs_dir``: update the one Data Docs site there (validation results are kept beside it)."""
    return submit_expectations(items, settings, docs_dir=docs_dir, run_name=run_name, run_time=run_time).result()


def submit_expectations(items: Sequence[Item], settings: dict, *, docs_dir: Path | None = None,
                        run_name: str | None = None, run_time=None) -> Submitted:
    """:func:`run_expectations` begun: with the command's helper process GX runs there while the
    caller goes on; :meth:`Submitted.result` appends the findings and returns the :class:`GxRun`."""
    by_ds: dict[str, list[Item]] = {}
    for it in items:
        by_ds.setdefault(it.dataset, []).append(it)
    if not any(len(it.frame) for it in items):
        return Submitted(GxRun(versions=len(items)))
    frames = {ds: _frames(group, ds) for ds, group in by_ds.items() if specs_for(ds) and any(len(it.frame) for it in group)}
    return submit_frames(frames, settings, groups=by_ds, versions=len(items), docs_dir=docs_dir, run_name=run_name,
                         run_time=run_time)


def frames_from_files(dataset: str, files: list[tuple[str, str]], con=None) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """The two GX frames of ``dataset`` (see :func:`_frames`) straight from staged Parquet files
    ``(path, ags)``, read by DuckDB in one pass and labelled in file order (files without rows are
    skipped, as :func:`run_expectations` skips empty items). For runs that need no findings (the
    Data Docs site): the shares are computed exactly as :func:`_shares` does."""
    import duckdb

    ds = DATASETS[dataset]
    keycols = ["fall_id" if c == "fallnummer" else c for c in ds.key]
    if not files:
        return None
    own = con is None
    con = duckdb.connect() if own else con
    meta = pd.DataFrame({"_datei": [f for f, _ in files], "_ags": [a for _, a in files], "_ord": range(len(files))})
    con.register("_gx_dateien", meta)
    try:
        have = {r[0] for r in con.execute("DESCRIBE SELECT * FROM read_parquet(?, union_by_name = true)",
                                          [[f for f, _ in files]]).fetchall()}
        extra = [c for c in ("geschlecht", "anlaesse") if c in have]
        cols = ", ".join(f'f."{c}"' for c in dict.fromkeys([*keycols, "_zeile", "jugendamt", *extra]))
        big = con.execute(
            f"SELECT m._ord, m._ags, {cols} FROM read_parquet(?, filename = true, file_row_number = true, union_by_name = true) f "
            "JOIN _gx_dateien m ON f.filename = m._datei ORDER BY m._ord, f.file_row_number",
            [[f for f, _ in files]]).df()
    finally:
        con.unregister("_gx_dateien")
        if own:
            con.close()
    if big.empty:
        return None
    ords = pd.unique(big["_ord"])  # files with rows, in file order
    label = {int(o): str(i) for i, o in enumerate(ords)}
    lief = big["_ord"].map(label)
    keep = big[keycols].notna().all(axis=1)
    zeilen = big.loc[keep, [*keycols, "_zeile"]].assign(_lieferung=lief[keep])
    zeilen = zeilen.reset_index(drop=True)
    zeilen = zeilen.astype({c: object for c in zeilen.columns if c != "_zeile"})
    zeilen["_zeile"] = zeilen["_zeile"].astype("int64")
    grp = big.groupby("_ord", sort=False)
    n = grp.size()
    o_count = (big["geschlecht"] == "o").fillna(False).groupby(big["_ord"], sort=False).sum() if "geschlecht" in big else None
    if "anlaesse" in big:
        a14 = pd.Series([bool(v) and isinstance(v, str) and bool(_ANLASS_14.search(v)) for v in big["anlaesse"]], index=big.index)
        a_count = a14.groupby(big["_ord"], sort=False).sum()
    else:
        a_count = None
    ja_ok = big["jugendamt"].notna()
    ja_n = ja_ok.groupby(big["_ord"], sort=False).sum()
    ja_other = (ja_ok & (big["jugendamt"] != big["_ags"])).groupby(big["_ord"], sort=False).sum()
    kz = []
    for o in ords:
        k = int(n[o])
        row = {"_lieferung": label[int(o)], "_zeile": 0, "zeilen": k,
               "anteil_geschlecht_o": 100.0 * float(o_count[o]) / k if o_count is not None else 0.0,
               "anteil_anlass_14": 100.0 * int(a_count[o]) / k if a_count is not None else 0.0,
               "anteil_fremdes_jugendamt": 100.0 * float(int(ja_other[o])) / int(ja_n[o]) if int(ja_n[o]) else 0.0}
        kz.append(row)
    return zeilen, pd.DataFrame(kz, columns=["_lieferung", "_zeile", "zeilen", "anteil_geschlecht_o",
                                             "anteil_anlass_14", "anteil_fremdes_jugendamt"])


def _drop_results(docs_dir: Path, run_name: str) -> None:
    """Remove the site's earlier results and pages of ``run_name`` (the pipeline names a run by its
    month range): a range validated again has new versions in force, and its earlier results
    describe versions no longer in force. Without this the site grew by eight results and pages
    with every nightly run that brought a delivery, and GX reads every result for the index."""
    import shutil

    for sub in (RESULTS_DIRNAME, PAGES_DIRNAME):
        base = docs_dir / sub
        if base.is_dir():
            for suite in base.iterdir():
                if (suite / run_name).is_dir():
                    shutil.rmtree(suite / run_name)


def run_frames(frames: dict[str, tuple[pd.DataFrame, pd.DataFrame]], settings: dict, *, groups: dict | None = None,
               versions: int = 0, docs_dir: Path | None = None, run_name: str | None = None, run_time=None) -> GxRun:
    """The GX part of :func:`run_expectations` on prebuilt frames per dataset; with ``groups``
    (the items per dataset, in label order) the unexpected rows become findings of the items.
    GX runs in the command's helper process when there is one (:mod:`inobhut.validation.gx_helper`),
    otherwise here."""
    return submit_frames(frames, settings, groups=groups, versions=versions, docs_dir=docs_dir, run_name=run_name,
                         run_time=run_time).result()


def submit_frames(frames: dict[str, tuple[pd.DataFrame, pd.DataFrame]], settings: dict, *, groups: dict | None = None,
                  versions: int = 0, docs_dir: Path | None = None, run_name: str | None = None,
                  run_time=None) -> Submitted:
    """:func:`run_frames` begun (see :func:`submit_expectations`)."""
    from inobhut.validation import gx_helper

    if not frames:
        return Submitted(GxRun(versions=versions))
    pending = gx_helper.submit(validate_frames, frames, settings, docs_dir=docs_dir, run_name=run_name, run_time=run_time)
    return Submitted(GxRun(versions=versions), pending, frames, groups or {}, settings["pruefung"])


@dataclass
class Submitted:
    """A GX validation under way; :meth:`result` waits for it, attributes the failed expectations
    to the items as findings (in GX's order) and returns the :class:`GxRun`."""

    run: GxRun
    pending: Any = None  # gx_helper.Pending of validate_frames
    frames: dict = field(default_factory=dict)
    groups: dict = field(default_factory=dict)
    pruefung: dict = field(default_factory=dict)

    def result(self) -> GxRun:
        if self.pending is None:
            return self.run
        run = self.run
        run.validations, failures, run.docs_index = self.pending.result()
        self.pending = None
        for dataset, fname, rule, hits in failures:
            group = self.groups.get(dataset)
            if group is None:
                continue  # frames without items (Data Docs): no findings to attribute
            frame = self.frames[dataset][0 if fname == "zeilen" else 1]
            per_item: dict[int, list[int]] = {}
            for h in hits:
                per_item.setdefault(int(h["_lieferung"]), []).append(int(h["_zeile"]))
            for i, zeilen in sorted(per_item.items()):
                it = group[i]
                if rule == "S001":
                    new = _duplicate_findings(it, zeilen)
                else:
                    row = frame[frame["_lieferung"] == str(i)].iloc[0]
                    new = [_summary_finding(rule, it, row, self.pruefung)]
                it.findings.extend(new)
                run.unexpected[rule] = run.unexpected.get(rule, 0) + len(new)
        return run


def validate_frames(frames: dict[str, tuple[pd.DataFrame, pd.DataFrame]], settings: dict, *,
                    docs_dir: Path | None = None, run_name: str | None = None,
                    run_time=None) -> tuple[int, list[tuple[str, str, str, list[dict]]], Path | None]:
    """GX itself: one checkpoint per dataset and frame. Returns the number of validations, the
    failed expectations as ``(dataset, frame name, rule, unexpected index list)`` in the order GX
    reported them, and the Data Docs index (with ``docs_dir``)."""
    validations = 0
    failures: list[tuple[str, str, str, list[dict]]] = []
    name = run_name or "inobhut"
    if docs_dir is None:
        # one ephemeral context per process, reused (creating one costs about a second); each
        # call gets its own data source and names, so calls never see each other's objects
        global _CALLS
        _CALLS += 1
        gx, ctx = _shared_context()
        suffix = f"_{_CALLS}"
    else:  # a Data Docs site: its own context with file stores, and stable names for the pages
        _drop_results(docs_dir, name)
        gx, ctx = _context(docs_dir)
        suffix = ""
    pr = settings["pruefung"]
    built: list = []  # validation results and suites of the call (the Data Docs site's pages)
    source = ctx.data_sources.add_pandas(f"inobhut{suffix}")
    for dataset, pair in sorted(frames.items()):
        specs = specs_for(dataset)
        frames_ds = dict(zip(("zeilen", "kennzahlen"), pair))
        vds = []
        for fname, frame in frames_ds.items():
            mine = [s for s in specs if s.frame == fname]
            if not mine:
                continue
            asset = source.add_dataframe_asset(f"{dataset}_{fname}")
            bd = asset.add_batch_definition_whole_dataframe(f"{dataset}_{fname}")
            suite = gx.ExpectationSuite(name=f"{suite_name(dataset)}_{fname}{suffix}")
            suite = ctx.suites.add_or_update(suite) if docs_dir is not None else ctx.suites.add(suite)
            for s in mine:
                exp = getattr(gx.expectations, s.expectation)(**s.kwargs(dataset, pr), meta={"regel": s.rule})
                suite.add_expectation(exp)
            suite.save()
            vd = ctx.validation_definitions.add(gx.ValidationDefinition(name=f"{dataset}_{fname}{suffix}", data=bd, suite=suite))
            vds.append((vd, fname, frame))
            validations += 1
        for vd, fname, frame in vds:
            cp = ctx.checkpoints.add(gx.Checkpoint(
                name=f"cp_{vd.name}", validation_definitions=[vd], actions=[],
                result_format={"result_format": "COMPLETE", "unexpected_index_column_names": ["_lieferung", "_zeile"]}))
            from great_expectations.core.run_identifier import RunIdentifier
            from great_expectations.data_context.types.resource_identifiers import ExpectationSuiteIdentifier

            # run_time from the data (not the clock) keeps Data Docs reproducible across reruns
            res = cp.run(batch_parameters={"dataframe": frame}, run_id=RunIdentifier(run_name=name, run_time=run_time))
            built += [*res.run_results, *(ExpectationSuiteIdentifier(name=r.suite_name) for r in res.run_results.values())]
            for vres in res.run_results.values():
                for er in vres.results:
                    if er.exception_info and er.exception_info.get("raised_exception"):
                        raise RuntimeError(f"GX-Erwartung {er.expectation_config.type} nicht ausführbar: "
                                           f"{er.exception_info.get('exception_message')}")
                    if not er.success:
                        failures.append((dataset, fname, er.expectation_config.meta["regel"],
                                         list(er.result.get("unexpected_index_list") or [])))
    docs_index = None
    if docs_dir is not None:
        # the site once for all validations of the call (what UpdateDataDocsAction does per
        # checkpoint: GX compiles its page templates again for every build, 0.8 s each)
        ctx.build_data_docs(resource_identifiers=built, dry_run=False, build_index=True)
        docs_index = docs_dir / "index.html"
    return validations, failures, docs_index
