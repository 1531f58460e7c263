"""The model version: the package version and a hash of the source that computes results."""

from __future__ import annotations

import importlib.metadata
import re
import shutil
from pathlib import Path

import pytest

from netsim import provenance
from netsim.version import NOT_MODEL, PACKAGE, __version__, model_files, model_version, source_hash


@pytest.fixture
def package_copy(tmp_path) -> Path:
    copy = tmp_path / "netsim"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def test_the_model_version_is_the_package_version_and_the_source_hash():
    assert re.fullmatch(r"\d+\.\d+\.\d+\+[0-9a-f]{16}", model_version())
    assert model_version() == f"{__version__}+{source_hash()}"
    assert importlib.metadata.version("netsim") == __version__  # the version pyproject.toml declares


def test_a_change_to_the_model_changes_the_version_and_a_change_to_presentation_does_not(package_copy):
    before = source_hash(package_copy)
    for shown in ("cli.py", "report.py", "store.py", "provenance.py"):
        f = package_copy / shown
        f.write_text(f.read_text() + "\n# reworded\n")
    assert source_hash(package_copy) == before
    for computes in ("processes/forum.py", "scenario.py", "batch.py", "population.py"):
        f = package_copy / computes
        text = f.read_text()
        f.write_text(text + "\n# changed\n")
        assert source_hash(package_copy) != before, computes
        f.write_text(text)
    assert source_hash(package_copy) == before
    (package_copy / "processes" / "newprocess.py").write_text("RATE = 0.1\n")  # a new module counts
    assert source_hash(package_copy) != before


def test_modules_outside_the_hash_compile_nothing():
    """A kernel outside the hash would not be recompiled when it changes, nor make results stale."""
    outside = [p for p in PACKAGE.rglob("*.py") if p not in model_files() and "__pycache__" not in p.parts]
    assert {p.relative_to(PACKAGE).parts[0] for p in outside} <= set(NOT_MODEL)
    assert any(p.name == "cli.py" for p in outside)
    for p in outside:
        text = p.read_text(encoding="utf-8")
        assert "njit" not in text and "numba.jit" not in text and "@jit" not in text, p


def test_provenance_records_the_model_version(baseline):
    record = provenance.provenance(baseline)
    assert record["model_version"] == model_version() and record["netsim_version"] == __version__
