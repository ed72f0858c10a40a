"""The blind-index term rules, pure: no database."""

from communitas.participants.search import index_terms, query_terms


def test_it_indexes_word_prefixes_accent_free():
    terms = index_terms(names=["José Ñúñez"], email="", phone="")
    assert {"jo", "jos", "jose", "nu", "nunez"} <= terms
    assert "j" not in terms


def test_it_indexes_email_whole_and_by_local_part_words():
    terms = index_terms(names=[], email="Mari.Quispe+retreat@Example.net", phone="")
    assert {"mari.quispe+retreat@example.net", "quis", "retreat"} <= terms


def test_it_finds_a_phone_number_typed_with_spaces():
    terms = index_terms(names=[], email="", phone="+1 503 555 0147")
    assert query_terms("503 555 0147") == ["5035550147"]
    assert set(query_terms("503 555 0147")) <= terms
    assert set(query_terms("555-0147")) <= terms
    assert set(query_terms("0147")) <= terms


def test_it_splits_names_and_drops_single_letters():
    assert query_terms("  Marisol  q ") == ["marisol"]
    assert query_terms("Bartholomew-Longname O'Brien") == ["bartholomew", "longname", "brien"]
    assert query_terms("P-K5EZT2") == ["p-k5ezt2"]
