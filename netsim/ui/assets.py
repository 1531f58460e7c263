"""The page's browser assets, kept on this machine so that nothing is fetched at run time.

Solara's server hands the browser its JavaScript and CSS from a public CDN, through a
proxy that keeps each file in a cache folder (``SOLARA_ASSETS_PROXY_CACHE_DIR``, by
default ``<venv>/share/solara/cdn``). With the folder filled beforehand the proxy never
goes out, and the page works offline. :func:`packages` reads which npm packages the
installed Solara asks for, from the ``{{cdn}}/NAME@VERSION/`` paths in its page template
and widgets, so the list follows Solara's version; :func:`fill` packs each with ``npm
pack`` (run by ``make ui``) and unpacks it as ``NAME@VERSION/``, the exact request path.

Run ``python -m netsim.ui.assets`` to fill the folder (``--check`` only reports what is
missing).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

__all__ = ["cache_dir", "fill", "missing", "packages"]

# A literal ``NAME@VERSION`` after the CDN prefix, in a template ({{cdn}}) or a Vue widget.
_REQUEST = re.compile(r"(?:\{\{\s*cdn\s*\}\}|getCdn\(\)\})/((?:@[\w.-]+/)?[\w.-]+)@([\w.-]+)/")
# The files whose requests a page can make: the page template, the widgets, Markdown.
_SOURCES = ("server/templates/solara.html.j2", "widgets/vue/*.vue", "components/markdown.py")
_FONT_AWESOME = re.compile(r"/((?:@[\w.-]+/)?[\w.-]+)@([\w.-]+)/")
_STAMP = ".complete-solara-{version}"


def _solara_dir() -> Path:
    found = importlib.util.find_spec("solara")
    if found is None or found.origin is None:
        raise RuntimeError("solara is not installed")
    return Path(found.origin).parent


def packages() -> list[str]:
    """The ``NAME@VERSION`` npm packages the installed Solara's pages and widgets ask the CDN for."""
    root = _solara_dir()
    found: set[str] = set()
    for pattern in _SOURCES:
        for path in root.glob(pattern):
            found.update(f"{n}@{v}" for n, v in _REQUEST.findall(path.read_text(encoding="utf-8")))
    settings = (root / "server" / "settings.py").read_text(encoding="utf-8")
    awesome = re.search(r"fontawesome_path[^=]*=\s*\"([^\"]+)\"", settings)
    if awesome and (m := _FONT_AWESOME.search(awesome.group(1))):
        found.add(f"{m.group(1)}@{m.group(2)}")
    return sorted(found)


def cache_dir() -> Path:
    """The folder Solara's asset proxy reads: ``$SOLARA_ASSETS_PROXY_CACHE_DIR`` or its default."""
    env = os.environ.get("SOLARA_ASSETS_PROXY_CACHE_DIR")
    return Path(env) if env else Path(sys.prefix) / "share" / "solara" / "cdn"


def _stamp(folder: Path) -> Path:
    return folder / _STAMP.format(version=importlib.metadata.version("solara"))


def missing(folder: Path | None = None) -> list[str]:
    """The packages not yet unpacked in the cache folder (empty when the page can run offline)."""
    folder = folder or cache_dir()
    return [p for p in packages() if not (folder / p / "package.json").is_file()]


def fill(folder: Path | None = None, *, log=print) -> Path:
    """Pack every missing package with ``npm pack`` and unpack it into the cache folder.

    Each package is unpacked into a temporary folder beside its place and renamed, so a
    half-unpacked package is never served. Packages already there are kept.

    Raises:
        RuntimeError: npm is not installed, or a package cannot be packed.
    """
    folder = folder or cache_dir()
    todo = missing(folder)
    if not todo:
        _stamp(folder).touch()
        return folder
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is needed once to fetch the page's browser assets "
                           "(Debian: apt-get install npm)")
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder, prefix=".pack-") as tmp:
        for spec in todo:
            log(f"npm pack {spec}")
            done = subprocess.run([npm, "pack", spec, "--silent", "--pack-destination", tmp],
                                  capture_output=True, text=True, check=False)
            if done.returncode != 0:
                raise RuntimeError(f"npm pack {spec} failed: {done.stderr.strip()[-500:]}")
            tarball = Path(tmp) / done.stdout.strip().splitlines()[-1]
            unpacked = Path(tempfile.mkdtemp(dir=tmp))
            with tarfile.open(tarball) as tar:
                tar.extractall(unpacked, filter="data")
            target = folder / spec
            target.parent.mkdir(parents=True, exist_ok=True)
            (unpacked / "package").rename(target)
    _stamp(folder).touch()
    return folder


def main(argv: list[str] | None = None) -> int:
    """Fill the asset folder, or with ``--check`` list what is missing (exit 1 if anything)."""
    ap = argparse.ArgumentParser(prog="python -m netsim.ui.assets", description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="only report the packages that are missing")
    args = ap.parse_args(argv)
    if args.check:
        gone = missing()
        for p in gone:
            print(f"missing: {cache_dir() / p}")
        return 1 if gone else 0
    print(f"browser assets in {fill()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
