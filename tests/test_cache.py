"""numba's cache folder follows the source, so a changed kernel is never run stale."""

from __future__ import annotations

import shutil
from pathlib import Path

import numba

import netsim
from netsim._cache import cache_folder

PACKAGE = Path(netsim.__file__).resolve().parent


def test_the_package_uses_the_folder_of_its_own_source():
    assert Path(numba.config.CACHE_DIR).name.startswith("numba-")
    assert Path(numba.config.CACHE_DIR).name == cache_folder(PACKAGE, Path("x")).name


def test_any_change_to_any_source_file_changes_the_folder(tmp_path):
    copy = tmp_path / "netsim"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    before = cache_folder(copy, tmp_path)
    assert cache_folder(copy, tmp_path) == before  # the same source, the same folder
    callee = copy / "processes" / "forum.py"
    callee.write_text(callee.read_text() + "\n# changed\n")
    assert cache_folder(copy, tmp_path) != before
