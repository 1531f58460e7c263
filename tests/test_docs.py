"""The documents that describe the model stay true to the code."""

from __future__ import annotations

import re
from pathlib import Path

from netsim.measures import OUTPUTS, outputs_markdown
from netsim.scenario import KIND_GOAL_PROFILES, parameters

ROOT = Path(__file__).resolve().parent.parent


def _doc_default(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, tuple | list):
        return "[" + ", ".join(repr(x) for x in v) + "]"
    if isinstance(v, str):
        return f'"{v}"'
    return str(v)


def test_odd_parameter_table_matches_the_schema():
    text = (ROOT / "docs" / "odd.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| `([a-z_]+\.[a-z_]+)` \| ([^|]+) \|", text, flags=re.MULTILINE))
    specs = {s.key: s for s in parameters()}
    assert set(rows) == set(specs), "regenerate the table in docs/odd.md (section 7.10)"
    for key, s in specs.items():
        assert rows[key].strip() == _doc_default(s.default), key


def test_odd_lists_every_monthly_output():
    text = (ROOT / "docs" / "odd.md").read_text(encoding="utf-8")
    missing = [name for name in OUTPUTS if f"`{name}`" not in text]
    assert not missing


def test_odd_outputs_table_is_the_one_made_from_the_outputs_table():
    text = (ROOT / "docs" / "odd.md").read_text(encoding="utf-8")
    assert outputs_markdown() in text, ("regenerate the outputs table of docs/odd.md (section 4.11) "
                                        "with netsim.measures.outputs_markdown()")


def test_the_version_is_one_and_the_citation_names_it():
    import re
    import tomllib

    import netsim

    root = Path(__file__).resolve().parent.parent
    declared = tomllib.loads((root / "pyproject.toml").read_text())["project"]["version"]
    assert netsim.__version__ == declared
    cited = re.search(r'^version: "([^"]+)"', (root / "CITATION.cff").read_text(), re.M)
    assert cited and cited.group(1) == declared


def test_odd_goal_profile_table_is_the_schemas_defaults():
    text = (ROOT / "docs" / "odd.md").read_text(encoding="utf-8")
    number = r" ([0-9.]+) \|"
    rows = re.findall(r"^\| ([a-z_]+) \|" + number * 5 + "$", text, flags=re.MULTILINE)
    table = {kind: tuple(float(x) for x in weights) for kind, *weights in rows}
    assert table == {k: tuple(float(x) for x in v) for k, v in KIND_GOAL_PROFILES.items()}
