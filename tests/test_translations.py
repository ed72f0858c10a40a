"""Every UI string has a Spanish translation (the .po file, checked for gaps and fuzzies)."""

import re
from pathlib import Path

PO = Path(__file__).resolve().parent.parent / "communitas" / "locale" / "es" / "LC_MESSAGES" / "django.po"


def _entries():
    for block in PO.read_text().split("\n\n")[1:]:
        msgid = "".join(re.findall(r'^(?:msgid|msgid_plural)? ?"(.*)"$', block.split("msgstr")[0], re.M))
        msgstrs = re.findall(r'^msgstr(?:\[\d\])? "(.*)"\n((?:".*"\n?)*)', block, re.M)
        yield block, msgid, ["".join([first, *re.findall(r'"(.*)"', rest)]) for first, rest in msgstrs]


def test_it_translates_every_string_into_spanish():
    missing = [msgid for block, msgid, strs in _entries() if not block.startswith("#~") and not all(strs)]
    assert missing == []


def test_it_has_no_fuzzy_translations():
    assert [msgid for block, msgid, _ in _entries() if "#, fuzzy" in block] == []


def test_it_finds_entries():
    assert sum(1 for _ in _entries()) > 100
