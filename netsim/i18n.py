"""Words the user reads, in English and Thai, kept in one place; and fonts that can draw them.

Every label, help text and message shown on the planner's page or in a report's charts is
looked up here by a dotted key (``label.mean_trust``, ``ui.step``). The words live in
``netsim/locales/en.toml`` and ``netsim/locales/th.toml``, one file per language, so a
translator edits text, not code. A key missing from a language falls back to English,
and one missing from English to the key itself, so a new label never breaks a page.

The page and the report use the same words for the same things: a monthly output's title
and unit (:func:`output_label`, :func:`output_unit`: English from
:data:`netsim.measures.OUTPUT_TABLE`, other languages under ``label.OUTPUT`` and
``unit.OUTPUT``), and a network type's name (``type.TYPE``).

Thai needs a font with Thai glyphs: matplotlib's bundled DejaVu Sans has none and draws
empty boxes. :func:`use_fonts` registers the Thai fonts that the project's set-up
installs (Debian's ``fonts-thai-tlwg``) and puts them after DejaVu Sans in the font
family, so Latin text keeps its usual face and Thai characters fall back to a Thai font.

Example:
    >>> text("ui.step", "en")
    'Step'
    >>> output_label("mean_trust", "en"), output_unit("mean_trust", "en")
    ('Trust in the team', '0 to 1')
"""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path
from typing import Any

__all__ = ["LANGUAGES", "THAI_FONT_DIRS", "catalogue", "output_label", "output_unit", "parameter_text",
           "text", "thai_font", "use_fonts"]

#: The languages the words are kept in (the first is the fallback).
LANGUAGES = ("en", "th")
_LOCALES = Path(__file__).with_name("locales")
#: Where the set-up's Thai fonts are installed (Debian's fonts-thai-tlwg).
THAI_FONT_DIRS = (Path("/usr/share/fonts/truetype/tlwg"), Path("/usr/share/fonts/opentype/tlwg"))
#: Thai font families in order of preference: plain sans-serif faces that read well in print.
_THAI_FAMILIES = ("Loma", "Waree", "Garuda", "Sawasdee", "Norasi", "Kinnari")


def _flatten(table: dict[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = str(value)
    return flat


@cache
def catalogue(lang: str) -> dict[str, str]:
    """Every key of one language's words (dotted keys, flattened from its TOML file).

    English also has ``label.OUTPUT`` and ``unit.OUTPUT`` for every monthly output, taken
    from :data:`netsim.measures.OUTPUT_TABLE` (their one home); other languages translate
    them under the same keys.

    Raises:
        ValueError: A language that is not in :data:`LANGUAGES`.
    """
    if lang not in LANGUAGES:
        raise ValueError(f"language {lang!r}: one of {', '.join(LANGUAGES)}")
    with (_LOCALES / f"{lang}.toml").open("rb") as f:
        words = _flatten(tomllib.load(f))
    if lang == LANGUAGES[0]:
        from netsim.measures import OUTPUT_TABLE

        for o in OUTPUT_TABLE:
            words.setdefault(f"label.{o.name}", o.label)
            words.setdefault(f"unit.{o.name}", o.unit)
    return words


def text(key: str, lang: str = "en", /, **fields: Any) -> str:
    """The words for ``key`` in ``lang``, with ``{field}`` placeholders filled in.

    Falls back to English, then to the key itself.
    """
    words = catalogue(lang).get(key) or catalogue(LANGUAGES[0]).get(key) or key
    return words.format(**fields) if fields else words


def output_label(output: str, lang: str = "en") -> str:
    """A monthly output's title in ``lang`` (``label.OUTPUT``); an unknown name is returned as it is."""
    return text(f"label.{output}", lang) if f"label.{output}" in catalogue(LANGUAGES[0]) else output


def output_unit(output: str, lang: str = "en") -> str:
    """A monthly output's unit in ``lang`` (``unit.OUTPUT``), as an axis shows it; "" if unknown."""
    return text(f"unit.{output}", lang) if f"unit.{output}" in catalogue(LANGUAGES[0]) else ""


def parameter_text(key: str, part: str, lang: str, fallback: str) -> str:
    """A parameter's words (``part``: ``label``, ``unit``, ``help``, ``choice.VALUE``) in ``lang``.

    From ``param.KEY.PART`` in the words files; ``fallback`` (the schema's) where they have none.
    """
    found = text(f"param.{key}.{part}", lang)
    return fallback if found == f"param.{key}.{part}" else found


@cache
def thai_font() -> str | None:
    """Register the installed Thai fonts with matplotlib; the family to use, or None if none is installed."""
    from matplotlib import font_manager

    files = sorted(p for d in THAI_FONT_DIRS if d.is_dir() for p in d.iterdir()
                   if p.suffix.lower() in (".ttf", ".otf"))
    for path in files:
        font_manager.fontManager.addfont(str(path))
    known = {f.name for f in font_manager.fontManager.ttflist}
    return next((family for family in _THAI_FAMILIES if family in known), None)


def use_fonts(lang: str = "en") -> list[str]:
    """Set matplotlib's font family so that ``lang`` draws (Thai falls back to a Thai font).

    Returns:
        The font families now in use, first choice first.

    Raises:
        RuntimeError: Thai was asked for and no Thai font is installed (``make fonts``).
    """
    import matplotlib

    families = ["DejaVu Sans"]
    thai = thai_font()
    if thai:
        families.append(thai)
    elif lang == "th":
        raise RuntimeError("no Thai font is installed: run `make fonts` (Debian's fonts-thai-tlwg)")
    matplotlib.rcParams["font.family"] = families
    return families
