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


def test_an_unwritable_cache_home_falls_back_to_the_temporary_folder(tmp_path):
    import subprocess
    import sys

    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    code = "import netsim, numba; print(numba.config.CACHE_DIR)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"PATH": "", "NETSIM_CACHE_DIR": str(blocker / "cache"),
                              "HOME": str(tmp_path)})
    folder = Path(out.stdout.strip())
    assert folder.is_dir() and not folder.is_relative_to(blocker)
