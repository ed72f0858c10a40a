"""The shipped instrument files: they load, they cite their sources, they ship item wording only where
the licence allows it; and the schema turns bad definitions away with a clear InstrumentError."""

import copy
import json
from importlib import resources

import pytest

from communitas.outcomes.definitions import InstrumentError, builtin_instruments, parse_instrument

SHIPPED = {"phq9", "gad7", "pcl5", "who5", "meq30", "ceq", "ebi", "wcs", "ucla3", "ptgi", "qidssr16"}
WITH_TEXT = {"phq9", "gad7", "pcl5", "who5"}
FOLDER = resources.files("communitas.outcomes.instruments")


def _raw(code: str) -> dict:
    return json.loads(FOLDER.joinpath(f"{code}.json").read_text(encoding="utf-8"))


def test_it_ships_exactly_the_eleven_instruments():
    assert set(builtin_instruments()) == SHIPPED
    assert {e.name for e in FOLDER.iterdir() if e.name.endswith(".json")} == {f"{c}.json" for c in SHIPPED}


@pytest.mark.parametrize("code", sorted(SHIPPED))
def test_it_loads_every_file_under_its_own_code(code):
    instrument = parse_instrument(_raw(code))
    assert instrument.code == code
    assert instrument == builtin_instruments()[code]


@pytest.mark.parametrize("code", sorted(SHIPPED))
def test_it_stores_every_file_as_utf8_json_with_indent_one(code):
    text = FOLDER.joinpath(f"{code}.json").read_text(encoding="utf-8")
    assert text == json.dumps(json.loads(text), indent=1, ensure_ascii=False)


@pytest.mark.parametrize("code", sorted(SHIPPED))
def test_it_includes_item_text_only_where_the_licence_allows(code):
    instrument = builtin_instruments()[code]
    if code in WITH_TEXT:
        assert instrument.licence.item_text_included
        assert all(item.text.get("en") for item in instrument.items)
        assert instrument.instructions.get("en")
    else:
        assert not instrument.licence.item_text_included
        assert all(item.text == {} for item in instrument.items)
        assert instrument.instructions == {}
        assert "licensed wording" in instrument.licence.note


@pytest.mark.parametrize("code", sorted(SHIPPED - WITH_TEXT))
def test_it_labels_items_without_text_by_number_and_domain(code):
    instrument = builtin_instruments()[code]
    for item in instrument.items:
        assert item.label.startswith(f"Item {item.id} \u2014 ")
        assert len(item.label) > len(f"Item {item.id} \u2014 ")
        assert instrument.text_for(item, "en") == item.label


@pytest.mark.parametrize("code", sorted(SHIPPED))
def test_it_cites_sources_for_every_instrument(code):
    instrument = builtin_instruments()[code]
    assert instrument.citation
    assert any(s.startswith("clinical.md §") for s in instrument.sources)
    assert len(instrument.sources) >= 2
    assert instrument.unverified, "every instrument has something the research could not confirm"
    for extra in instrument.extras:
        assert extra.source, extra.name
    for flag in instrument.flags:
        assert flag.note, flag.code
    if instrument.reliable_change:
        assert instrument.reliable_change.source
    if instrument.clinical_cutoff:
        assert instrument.clinical_cutoff.source


@pytest.mark.parametrize("code", sorted(SHIPPED))
def test_it_numbers_items_one_to_n_in_order(code):
    assert [item.id for item in builtin_instruments()[code].items] == [
        str(n) for n in range(1, len(builtin_instruments()[code].items) + 1)
    ]


@pytest.mark.parametrize("code", ["pcl5", "meq30", "ceq", "wcs", "ptgi"])
def test_it_assigns_every_scored_item_to_exactly_one_subscale(code):
    instrument = builtin_instruments()[code]
    assigned = [i for s in instrument.subscales for i in s.items]
    assert sorted(assigned, key=int) == [i.id for i in instrument.scored_items]


def test_it_covers_every_qids_item_with_exactly_one_domain():
    instrument = builtin_instruments()["qidssr16"]
    assert [i for d in instrument.scoring.domains for i in d] == [str(n) for n in range(1, 17)]
    assert len(instrument.scoring.domains) == 9


@pytest.mark.parametrize(
    ("code", "panel", "total"),
    [("phq9", "44249-1", "44261-6"), ("gad7", "69737-5", "70274-6"), ("pcl5", "101697-1", "101698-9")],
)
def test_it_records_the_loinc_codes(code, panel, total):
    instrument = builtin_instruments()[code]
    assert (instrument.loinc_panel, instrument.loinc_total) == (panel, total)


def test_it_makes_only_the_safety_items_page_a_human():
    safety = {
        code: [(f.item, f.min) for f in instrument.flags if f.kind == "safety"]
        for code, instrument in builtin_instruments().items()
    }
    assert {code: flags for code, flags in safety.items() if flags} == {
        "phq9": [("9", 1)],
        "qidssr16": [("12", 1)],
    }


# ---------------------------------------------------------------------------------------------- schema


def _phq9() -> dict:
    return copy.deepcopy(_raw("phq9"))


def _rejects(data: dict) -> str:
    with pytest.raises(InstrumentError) as exc:
        parse_instrument(data)
    message = str(exc.value)
    assert "\n" not in message
    return message


def test_it_accepts_the_unchanged_example():
    assert parse_instrument(_phq9()).code == "phq9"


def test_it_rejects_an_unknown_response_set():
    data = _phq9()
    data["items"][0]["response_set"] = "nope"
    assert "item 1: unknown response set 'nope'" in _rejects(data)


def test_it_rejects_duplicate_item_ids():
    data = _phq9()
    data["items"][1]["id"] = "1"
    assert "item ids must be unique" in _rejects(data)


def test_it_rejects_a_subscale_referencing_an_unknown_item():
    data = _phq9()
    data["subscales"] = [{"code": "core", "name": "Core", "items": ["1", "99"], "method": "sum"}]
    assert "unknown item ids referenced: 99" in _rejects(data)


def test_it_rejects_a_flag_referencing_an_unknown_item():
    data = _phq9()
    data["flags"][0]["item"] = "42"
    assert "unknown item ids referenced: 42" in _rejects(data)


@pytest.mark.parametrize("vas", [{"type": "vas"}, {"type": "vas", "min": 0}, {"type": "vas", "min": 100, "max": 0}])
def test_it_rejects_a_vas_set_without_min_below_max(vas):
    data = _phq9()
    data["response_sets"]["slider"] = vas
    message = _rejects(data)
    assert message.startswith("response_sets.slider:")
    assert "a VAS response set needs min < max" in message


def test_it_rejects_a_choice_set_with_one_option():
    data = _phq9()
    data["response_sets"]["frequency"]["options"] = data["response_sets"]["frequency"]["options"][:1]
    assert "needs at least two options" in _rejects(data)


def test_it_rejects_an_extra_referencing_an_unknown_subscale():
    data = _phq9()
    data["extras"].append(
        {"type": "all_subscales_percent", "name": "all_high", "threshold": 0.6, "subscales": ["nope"]}
    )
    assert "extra all_high: unknown subscales ['nope']" in _rejects(data)


def test_it_rejects_a_provisional_rule_requiring_an_unknown_subscale():
    data = _phq9()
    data["extras"].append({"type": "dsm5_provisional_ptsd", "name": "dx", "require": {"b": 1}})
    assert "extra dx: unknown subscales ['b']" in _rejects(data)


@pytest.mark.parametrize(
    ("where", "expected"),
    [((), "colour: Extra inputs are not permitted"), (("items", 0), "items.0.colour: Extra inputs are not permitted")],
)
def test_it_rejects_extra_keys(where, expected):
    data = _phq9()
    target = data
    for step in where:
        target = target[step]
    target["colour"] = "blue"
    assert _rejects(data) == expected


def test_it_rejects_a_subscale_code_outside_the_code_pattern():
    data = _phq9()
    data["subscales"] = [{"code": "B", "name": "Cluster B", "items": ["1"], "method": "sum"}]
    assert _rejects(data).startswith("subscales.0.code:")


def test_it_rejects_domain_max_sum_without_domains():
    data = _phq9()
    data["scoring"]["method"] = "domain_max_sum"
    assert "domain_max_sum scoring needs domains" in _rejects(data)
