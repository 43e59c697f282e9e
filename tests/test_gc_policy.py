"""During ``inobhut run`` the garbage collector's oldest generation is collected less often
(``pipelines.runner.fewer_full_collections``, docs/leistung.md): every step of a real run sees
the raised threshold, and the process has its own setting back afterwards, also after a failure."""

from __future__ import annotations

import gc

import pytest

from inobhut.generate import generate
from pipelines import runner


def test_a_real_run_collects_the_oldest_generation_less_often_and_restores_the_setting(inobhut_env, monkeypatch):
    from inobhut import report_run

    seen: list[tuple[int, int, int]] = []
    real = report_run.finish_outputs

    def watching(*args, **kwargs):  # the end of the run, after every Dagster step
        seen.append(gc.get_threshold())
        return real(*args, **kwargs)

    monkeypatch.setattr(report_run, "finish_outputs", watching)
    before = gc.get_threshold()
    assert before[2] < runner.FULL_COLLECTION_EVERY  # the interpreter's default (10)
    generate(inobhut_env.landing, "2025-02", "2025-02", seed=3, jugendaemter=["01062"])
    assert runner.run_pipeline(inobhut_env, ["2025-02"]).success
    assert seen == [(before[0], before[1], runner.FULL_COLLECTION_EVERY)]
    assert gc.get_threshold() == before


def test_the_setting_comes_back_after_a_failure():
    before = gc.get_threshold()
    with pytest.raises(RuntimeError):
        with runner.fewer_full_collections():
            assert gc.get_threshold()[2] == runner.FULL_COLLECTION_EVERY
            raise RuntimeError("Abbruch")
    assert gc.get_threshold() == before
