"""Organizations add their own instruments and translations, with provenance."""

import copy

import pytest

from communitas.core.models import AuditEntry
from communitas.outcomes.definitions import InstrumentError, get_builtin
from communitas.outcomes.models import CustomInstrument
from communitas.outcomes.registry import instrument_for, instruments_for
from communitas.outcomes.services import custom_instrument_add


def _phq9_in_vietnamese():
    data = get_builtin("phq9").model_dump(mode="json")
    data["version"] = "2001-vi-1"
    data["languages"] = [*data["languages"], "vi"]
    data["items"][0]["text"]["vi"] = "Ít hứng thú hoặc niềm vui khi làm việc"
    data["translations"]["vi"] = {
        "translated_by": "Saigon Health translators",
        "validated": False,
        "source": "in-house",
    }
    return data


def test_it_adds_a_translation_with_provenance_for_that_organization_only(org, other_org, alice):
    custom_instrument_add(organization=org, definition=_phq9_in_vietnamese(), actor=alice)
    mine = instrument_for(org.pk, "phq9")
    assert "vi" in mine.languages and mine.translations["vi"].translated_by == "Saigon Health translators"
    assert "vi" not in instrument_for(other_org.pk, "phq9").languages
    assert AuditEntry.objects.filter(action="outcomes.custom_instrument.added").count() == 1


def test_it_refuses_a_language_without_provenance(org, alice):
    data = _phq9_in_vietnamese()
    del data["translations"]["vi"]
    with pytest.raises(InstrumentError, match=r"without provenance.*: vi"):
        custom_instrument_add(organization=org, definition=data, actor=alice)
    assert not CustomInstrument.objects.exists()


@pytest.mark.parametrize(
    "tamper",
    [
        lambda d: d["flags"].clear(),  # dropping the item-9 safety flag
        lambda d: d["bands"][0].update(max=6),
        lambda d: d["response_sets"]["frequency"]["options"][3].update(value=4),
        lambda d: d["items"][2].update(reverse=True),
    ],
)
def test_it_refuses_a_translation_that_changes_scoring(org, alice, tamper):
    data = _phq9_in_vietnamese()
    tamper(data)
    with pytest.raises(InstrumentError, match="may not change how it is scored"):
        custom_instrument_add(organization=org, definition=data, actor=alice)


def test_it_adds_an_organizations_own_instrument(org, alice):
    data = copy.deepcopy(get_builtin("ucla3").model_dump(mode="json"))
    data.update(code="belonging4", name="Circle belonging check-in", version="1")
    data["items"].append({**data["items"][0], "id": "4", "label": "Item 4 — felt welcome"})
    custom_instrument_add(organization=org, definition=data, actor=alice)
    assert "belonging4" in instruments_for(org.pk)


def test_it_refuses_a_duplicate_version_and_a_bad_schema(org, alice):
    custom_instrument_add(organization=org, definition=_phq9_in_vietnamese(), actor=alice)
    with pytest.raises(InstrumentError, match="already exists"):
        custom_instrument_add(organization=org, definition=_phq9_in_vietnamese(), actor=alice)
    with pytest.raises(InstrumentError):
        custom_instrument_add(organization=org, definition={"code": "x"}, actor=alice)
