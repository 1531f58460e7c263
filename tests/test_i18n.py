import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from netsim.i18n import (  # noqa: E402
    LANGUAGES,
    catalogue,
    output_label,
    output_unit,
    text,
    thai_font,
    use_fonts,
)
from netsim.measures import OUTPUT_TABLE  # noqa: E402


def test_every_key_has_both_languages():
    """The page and the report read one set of words: each key in English and in Thai.

    English has a title and a unit for every monthly output from the outputs table, so a
    new output needs its Thai words (label.NAME, unit.NAME in netsim/locales/th.toml).
    """
    english, thai = set(catalogue("en")), set(catalogue("th"))
    assert not thai - english, f"Thai keys without English: {sorted(thai - english)}"
    assert not english - thai, f"English keys without Thai (add them to th.toml): {sorted(english - thai)}"
    for o in OUTPUT_TABLE:
        assert {f"label.{o.name}", f"unit.{o.name}"} <= english


def test_one_word_set_for_outputs_and_network_types():
    """Outputs and network types have one set of keys (no second copy for the page or the report)."""
    for lang in LANGUAGES:
        sections = {key.split(".")[0] for key in catalogue(lang)}
        assert "output" not in sections
        assert not any(key.startswith("ui.network_type.") for key in catalogue(lang))
    trust = next(o for o in OUTPUT_TABLE if o.name == "mean_trust")
    assert (output_label("mean_trust", "en"), output_unit("mean_trust", "en")) == (trust.label, trust.unit)
    assert output_label("no_such_output", "th") == "no_such_output"
    assert output_unit("no_such_output", "th") == ""


def test_thai_words_are_thai_and_missing_keys_fall_back():
    for o in OUTPUT_TABLE:
        assert any("\u0e00" <= ch <= "\u0e7f" for ch in output_label(o.name, "th")), o.name
    assert any("\u0e00" <= ch <= "\u0e7f" for ch in text("type.structured", "th"))
    assert text("no.such.key", "th") == "no.such.key"
    with pytest.raises(ValueError, match="one of en, th"):
        catalogue("fr")
    assert LANGUAGES[0] == "en"


def test_thai_text_draws_with_a_thai_font(recwarn):
    assert thai_font() is not None, "the set-up installs fonts-thai-tlwg (make fonts)"
    use_fonts("th")
    fig, ax = plt.subplots()
    ax.set_title(output_label("mean_trust", "th"))
    fig.canvas.draw()
    plt.close(fig)
    assert not [w for w in recwarn if "missing from font" in str(w.message)]
