from knowledge import readability
from knowledge.text import clean_message, fold, lexical_tokens


def test_fold_unifies_spellings_people_type():
    assert fold("Übergangsgeld") == fold("ubergangsgeld")
    assert fold("română") == "romana"
    assert fold("Kayıt") == fold("kayit")
    assert fold("كيف") == fold("کیف")  # Arabic and Persian letter forms


def test_tokens_have_prefix_stems_and_arabic_light_stems():
    assert "anmel…" in lexical_tokens("Anmeldung") and "anmel…" in lexical_tokens("anmelden")
    tokens = lexical_tokens("بالمستشفى", locale="ar")
    assert "مستشفی" in tokens
    assert fold("عادة") in lexical_tokens("كالعادة", locale="ar")  # kaf, which folding changes
    assert lexical_tokens("بالمستشفى", locale="fa") == ["بالمستشفی", "بالمس…"]


def test_clean_message_removes_control_characters_but_keeps_persian_zwnj():
    assert clean_message("  hallo\u0000\u200b  welt \n ") == "hallo welt"
    assert "\u200c" in clean_message("می\u200cخواهم")


def test_readability_flags_long_sentences_and_words_but_not_terms_in_brackets():
    body = ("Kurzer Satz. " * 20) + "Gehen Sie zur Ausländerbehörde (Ausländerbehördenzuständigkeitsprüfung)."
    findings = readability.check(body, "de")
    assert not any("long word" in f.message for f in findings)
    long = readability.check("Dies ist ein Satz mit " + "sehr " * 30 + "vielen Wörtern.", "en")
    assert any("sentence of" in f.message for f in long)
    assert any("body has" in f.message for f in long)
