import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from netsim.i18n import LANGUAGES, catalogue, text, thai_font, use_fonts  # noqa: E402


def test_every_thai_key_is_an_english_key():
    assert set(catalogue("th")) <= set(catalogue("en"))


def test_thai_words_are_thai_and_missing_keys_fall_back():
    assert any("\u0e00" <= ch <= "\u0e7f" for ch in text("output.mean_trust", "th"))
    assert text("output.mean_trust", "en") == "mean trust in the team"
    assert text("no.such.key", "th") == "no.such.key"
    with pytest.raises(ValueError, match="one of en, th"):
        catalogue("fr")
    assert LANGUAGES[0] == "en"


def test_thai_text_draws_with_a_thai_font(recwarn):
    assert thai_font() is not None, "the set-up installs fonts-thai-tlwg (make fonts)"
    use_fonts("th")
    fig, ax = plt.subplots()
    ax.set_title(text("output.mean_trust", "th"))
    fig.canvas.draw()
    plt.close(fig)
    assert not [w for w in recwarn if "missing from font" in str(w.message)]
