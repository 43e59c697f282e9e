"""Packaging without time bombs: license as an SPDX string (PEP 639), build backend pinned, a
pytest configuration that shows deprecations instead of hiding them, ruff configured."""

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_license_is_an_spdx_string_and_the_backend_is_pinned():
    assert PYPROJECT["project"]["license"] == "EUPL-1.2"  # the table form stops building after 2027-02-18
    requires = PYPROJECT["build-system"]["requires"]
    setuptools = [r for r in requires if r.startswith("setuptools")]
    assert len(setuptools) == 1 and "==" in setuptools[0]
    major = int(setuptools[0].split("==")[1].split(".")[0])
    assert major >= 77  # first setuptools accepting the PEP 639 license string


def test_deprecation_warnings_are_not_hidden_wholesale():
    filters = PYPROJECT["tool"]["pytest"]["ini_options"]["filterwarnings"]
    for f in filters:
        action, _, rest = f.partition("::")
        if action == "ignore" and rest.startswith(("DeprecationWarning", "PendingDeprecationWarning")):
            assert rest.count(":") >= 1 and rest.split(":", 1)[1], f"filter without module: {f}"


def test_ruff_is_pinned_in_the_test_extra_and_the_lock():
    test_extra = PYPROJECT["project"]["optional-dependencies"]["test"]
    pin = next(d for d in test_extra if d.startswith("ruff"))
    assert pin.startswith("ruff==")
    assert pin + "\n" in (ROOT / "requirements.lock").read_text(encoding="utf-8")
    assert ".venv/bin/ruff check ." in (ROOT / "scripts" / "test.sh").read_text(encoding="utf-8")
