"""Jurisdiction rule packs: Oregon's group ratios, cap, dose limit, minimum durations and
preparation window at every band edge, and organization packs for everywhere else. Pure."""

from __future__ import annotations

import datetime
import json
from importlib import resources
from typing import Any

import pytest

from communitas.compliance.rulepacks import (
    ComplianceInputError,
    UnknownJurisdiction,
    check_group_session,
    check_preparation_window,
    max_dose_mg,
    organization_pack,
    resolve_pack,
    shipped_packs,
)

UTC = datetime.UTC
PREP = datetime.datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def oregon(doses: list[float], facilitators: int = 1, **options: Any):
    return check_group_session(jurisdiction="US-OR", doses_mg=doses, facilitators=facilitators, **options)


def rules(items) -> list[str]:
    return [item.rule for item in items]


# --- group ratios (OAR 333-333-5230, regulatory.md 1.4) --------------------------------------------

# largest dose, clients per facilitator, whether the dose sits on an overlapping edge
RATIO_EDGES = [
    (0.0, 25, False),
    (4.99, 25, False),
    (5.0, 15, True),  # 'up to 5' (1:25) and '>=5 and <10' (1:15): the stricter applies
    (5.01, 15, False),
    (9.99, 15, False),
    (10.0, 8, False),
    (10.01, 8, False),
    (14.99, 8, False),
    (15.0, 6, False),
    (15.01, 6, False),
    (24.99, 6, False),
    (25.0, 4, False),
    (25.01, 4, False),
    (34.99, 4, False),
    (35.0, 2, True),  # '>=25 and up to 35' (1:4) and '>=35 and up to 50' (1:2)
    (35.01, 2, False),
    (49.99, 2, False),
    (50.0, 2, False),
]


@pytest.mark.parametrize(("dose", "per_facilitator", "overlap"), RATIO_EDGES, ids=[f"{e[0]}mg" for e in RATIO_EDGES])
def test_it_sets_the_ratio_by_band_at_every_edge(dose, per_facilitator, overlap):
    check = oregon([dose])
    assert check.ok and check.violations == []
    assert check.max_clients == per_facilitator  # one facilitator present
    ratio_warnings = [w for w in check.warnings if w.rule == "OR-GROUP-RATIO"]
    assert bool(ratio_warnings) is overlap
    if overlap:
        assert "overlapping band edge" in ratio_warnings[0].message
        assert f"(1:{per_facilitator}) is applied" in ratio_warnings[0].message
        assert "OAR 333-333-5230" in ratio_warnings[0].source


@pytest.mark.parametrize(("dose", "per_facilitator", "overlap"), RATIO_EDGES, ids=[f"{e[0]}mg" for e in RATIO_EDGES])
def test_it_needs_one_more_facilitator_one_client_past_the_ratio(dose, per_facilitator, overlap):
    clients = min(per_facilitator, 25)
    assert oregon([dose] * clients, facilitators=1).ok
    if clients < 25:
        over = oregon([dose] * (clients + 1), facilitators=1)
        assert not over.ok and rules(over.violations) == ["OR-GROUP-RATIO"]
        assert over.min_facilitators == 2
        assert "need at least 2 facilitator(s)" in over.violations[0].message
        assert oregon([dose] * (clients + 1), facilitators=2).ok


def test_it_uses_the_largest_dose_in_the_group():
    check = oregon([1, 2, 3, 12, 4, 4], facilitators=1)
    assert check.min_facilitators == 1 and check.max_clients == 8  # 12 mg: 1:8
    assert not oregon([1] * 8 + [15], facilitators=1).ok  # one client at 15 mg makes it 1:6


def test_it_counts_a_secondary_dose_in_the_clients_total():
    initial, secondary = 20.0, 6.0
    five_clients = [12.0, 14.0, 18.0, 20.0]
    assert oregon([*five_clients, initial], facilitators=1).ok  # 20 mg: 1:6
    pushed = oregon([*five_clients, initial + secondary], facilitators=1)  # 26 mg: 1:4
    assert not pushed.ok
    assert pushed.min_facilitators == 2 and pushed.max_clients == 4
    assert "largest dose of 26 mg" in pushed.violations[0].message


def test_it_allows_25_clients_and_refuses_26_whatever_the_facilitators():
    assert oregon([1.0] * 25, facilitators=1).ok
    crowded = oregon([1.0] * 26, facilitators=10)
    assert not crowded.ok and rules(crowded.violations) == ["OR-GROUP-CAP"]
    assert crowded.max_clients == 25
    assert "at most 25 clients" in crowded.violations[0].message
    assert "OAR 333-333-5230" in crowded.violations[0].source


def test_it_caps_at_the_administration_areas_occupancy_when_smaller():
    check = oregon([1.0] * 12, facilitators=1, max_occupancy=10)
    assert not check.ok and rules(check.violations) == ["OR-GROUP-CAP"]
    assert check.max_clients == 10 and "maximum occupancy is 10" in check.violations[0].message
    assert oregon([1.0] * 12, facilitators=1, max_occupancy=30).max_clients == 25


def test_it_needs_a_facilitator_for_any_group():
    check = oregon([1.0], facilitators=0)
    assert not check.ok and check.min_facilitators == 1 and check.max_clients == 0


# --- the 50 mg maximum ------------------------------------------------------------------------


def test_it_refuses_more_than_50_mg_per_client():
    check = oregon([10.0, 50.01], facilitators=1)
    assert not check.ok
    assert rules(check.violations) == ["OR-DOSE-MAX"]
    assert check.violations[0].message.startswith("client 2: 50.01 mg is above the per-session maximum of 50 mg")
    assert "[R2]" in check.violations[0].source and "[R19]" in check.violations[0].source
    assert check.min_facilitators == 1 and check.max_clients == 2  # the strictest ratio is still applied
    assert check.min_duration_minutes == 360
    assert "above the ratio table" in " ".join(w.message for w in check.warnings)


def test_it_refuses_a_secondary_dose_that_takes_a_client_over_50_mg():
    assert oregon([35.0 + 15.0]).ok
    assert rules(oregon([35.0 + 16.0]).violations) == ["OR-DOSE-MAX"]


def test_it_answers_the_per_session_maximum():
    assert max_dose_mg("US-OR") == 50
    assert max_dose_mg("US-OR-MUL") == 50  # a county falls back to its state


# --- minimum duration (OAR 333-333-5250, regulatory.md 1.5) -----------------------------------------

# dose, first session at the center, whole fungi, minimum minutes
DURATIONS = [
    (0.5, True, False, 60),  # <2.5 mg, first session at the center
    (2.49, True, False, 60),
    (2.49, False, False, 30),  # <2.5 mg, a later session at the same center within 12 months
    (0.5, False, False, 30),
    (2.49, False, True, 60),  # whole fungi: 1 h in all cases
    (2.49, True, True, 60),
    (2.5, False, False, 60),  # >=2.5 and <5
    (2.51, False, False, 60),
    (4.99, False, False, 60),
    (5.0, False, False, 120),  # >=5 and <10
    (5.01, False, False, 120),
    (9.99, False, False, 120),
    (10.0, False, False, 240),  # >=10 and <25
    (10.01, False, False, 240),
    (24.99, False, False, 240),
    (25.0, False, False, 300),  # >=25 and up to 35
    (25.01, False, False, 300),
    (34.99, False, False, 300),
    (35.0, False, False, 360),  # overlapping edge: the longer minimum
    (35.01, False, False, 360),  # >=35 and up to 50
    (49.99, False, False, 360),
    (50.0, False, False, 360),
    (50.01, False, False, 360),  # over the maximum: refused, and the longest minimum still shown
]


@pytest.mark.parametrize(
    ("dose", "first", "fungi", "minutes"),
    DURATIONS,
    ids=[f"{d[0]}mg-{'first' if d[1] else 'repeat'}{'-fungi' if d[2] else ''}" for d in DURATIONS],
)
def test_it_sets_the_minimum_duration_by_the_clients_total(dose, first, fungi, minutes):
    assert oregon([dose], first_session=first, whole_fungi=fungi).min_duration_minutes == minutes


def test_it_warns_about_the_overlap_at_35_mg_in_the_duration_table():
    notices = [w for w in oregon([35.0]).warnings if w.rule == "OR-DURATION"]
    assert len(notices) == 1
    assert "(300 min)" in notices[0].message and "the stricter band (360 min) is applied" in notices[0].message
    assert "OAR 333-333-5250" in notices[0].source


def test_it_explains_when_the_30_minute_repeat_minimum_applies():
    check = oregon([1.0, 2.0])
    assert check.min_duration_minutes == 30
    [notice] = [w for w in check.warnings if w.rule == "OR-DURATION"]
    assert "same center within 12 months" in notice.message and "first_session" in notice.message
    assert oregon([1.0, 2.0], first_session=True).warnings == []


def test_it_holds_the_group_for_the_longest_clients_minimum():
    check = oregon([1.0, 7.0, 26.0], facilitators=1)
    assert check.min_duration_minutes == 300
    assert [w for w in check.warnings if w.rule == "OR-DURATION"] == []  # the 30-min rule did not decide


# --- preparation window (OAR 333-333-5000, ORS 475A.345, regulatory.md 1.2) -----------------------


def prep(after: datetime.timedelta, **options: Any):
    return check_preparation_window(
        jurisdiction="US-OR", preparation_at=PREP, administration_at=PREP + after, **options
    )


@pytest.mark.parametrize(
    ("after", "violation"),
    [
        (datetime.timedelta(hours=23, minutes=59), True),
        (datetime.timedelta(hours=23, minutes=59, seconds=59), True),
        (datetime.timedelta(hours=24), False),
        (datetime.timedelta(hours=24, minutes=1), False),
        (datetime.timedelta(days=89, hours=23), False),
        (datetime.timedelta(days=90), False),
        (datetime.timedelta(days=90, seconds=1), True),
        (datetime.timedelta(days=91), True),
    ],
    ids=["23h59", "23h59m59s", "24h", "24h01", "89d23h", "90d", "90d+1s", "91d"],
)
def test_it_checks_the_preparation_window_edges(after, violation):
    found = prep(after)
    assert bool(found) is violation
    if found:
        assert rules(found) == ["OR-PREP-WINDOW"]
        assert "OAR 333-333-5000" in found[0].source and "ORS 475A.345" in found[0].source


def test_it_says_which_side_of_the_window_was_missed():
    assert "at least 24 hours before" in prep(datetime.timedelta(hours=23, minutes=59))[0].message
    assert "23 h 59 min before" in prep(datetime.timedelta(hours=23, minutes=59))[0].message
    assert "at most 90 days before" in prep(datetime.timedelta(days=91))[0].message
    assert "after the administration session" in prep(-datetime.timedelta(hours=1))[0].message


def test_it_compares_instants_across_time_zones():
    pacific = datetime.timezone(datetime.timedelta(hours=-8))
    administration = datetime.datetime(2026, 3, 2, 1, 0, tzinfo=pacific)  # 2026-03-02 09:00 UTC
    assert check_preparation_window(jurisdiction="US-OR", preparation_at=PREP, administration_at=administration) == []


def test_it_refuses_naive_datetimes():
    with pytest.raises(ComplianceInputError, match="timezone-aware"):
        check_preparation_window(
            jurisdiction="US-OR",
            preparation_at=datetime.datetime(2026, 3, 1, 9, 0),
            administration_at=PREP + datetime.timedelta(days=2),
        )


# --- unknown jurisdictions and bad input --------------------------------------------------------


def test_it_refuses_a_jurisdiction_without_a_pack():
    with pytest.raises(UnknownJurisdiction, match="no rule pack for FR"):
        check_group_session(jurisdiction="FR", doses_mg=[5.0], facilitators=1)


def test_it_says_colorado_has_no_ratios_and_does_not_borrow_oregons():
    with pytest.raises(UnknownJurisdiction) as info:
        check_group_session(jurisdiction="US-CO", doses_mg=[5.0], facilitators=1)
    message = str(info.value)
    assert "US-CO" in message and "were not found" in message and "Do not reuse Oregon's table" in message
    with pytest.raises(UnknownJurisdiction):
        check_preparation_window(
            jurisdiction="US-CO", preparation_at=PREP, administration_at=PREP + datetime.timedelta(days=2)
        )


@pytest.mark.parametrize("code", ["us-or", "Oregon", "US-OREGON", "", "USA"])
def test_it_refuses_malformed_jurisdiction_codes(code):
    with pytest.raises(UnknownJurisdiction, match="ISO 3166"):
        check_group_session(jurisdiction=code, doses_mg=[5.0], facilitators=1)


def test_it_refuses_a_date_before_the_shipped_pack():
    with pytest.raises(UnknownJurisdiction, match="starts 2025-01-01"):
        oregon([5.0], on=datetime.date(2024, 12, 31))
    assert oregon([5.0], on=datetime.date(2025, 1, 1)).ok


@pytest.mark.parametrize(
    ("doses", "facilitators", "message"),
    [
        ([], 1, "at least one client"),
        ([-1.0], 1, "negative"),
        ([float("nan")], 1, "not a number"),
        ([float("inf")], 1, "not a number"),
        ([True], 1, "not a number"),
        (["5"], 1, "not a number"),
        ([500.01], 1, "above any plausible dose"),
        ("5,12", 1, "a list of numbers"),
        ([5.0], -1, "facilitators"),
        ([5.0], 1.5, "facilitators"),
    ],
)
def test_it_refuses_bad_input(doses, facilitators, message):
    with pytest.raises(ComplianceInputError, match=message):
        check_group_session(jurisdiction="US-OR", doses_mg=doses, facilitators=facilitators)


# --- the data file ----------------------------------------------------------------------------


def test_it_cites_a_source_and_an_effective_date_for_every_number():
    data = json.loads((resources.files("communitas.compliance") / "data" / "rulepacks.json").read_text())

    def numbered_sections(node, path="pack"):
        if isinstance(node, dict):
            if any(isinstance(v, (int, float)) and not isinstance(v, bool) for v in node.values()):
                yield path, node
            for key, value in node.items():
                yield from numbered_sections(value, f"{path}.{key}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                yield from numbered_sections(value, f"{path}[{index}]")

    for pack in data["packs"]:
        sections = list(numbered_sections(pack))
        assert len(sections) >= 15
        for path, section in sections:
            assert section.get("source") in pack["sources"], path
            datetime.date.fromisoformat(section["effective_from"])


def test_it_encodes_oregons_numbers_as_researched():
    pack = resolve_pack("US-OR")
    assert pack.effective_from == datetime.date(2025, 1, 1)
    assert [b.clients_per_facilitator for b in pack.group_ratio.bands] == [25, 15, 8, 6, 4, 2]
    assert pack.group_cap is not None and pack.group_cap.max_clients == 25
    assert pack.dose_limit is not None and pack.dose_limit.max_mg == 50
    assert pack.duration is not None and [b.minutes for b in pack.duration.bands] == [60, 120, 240, 300, 360]
    assert pack.preparation_window is not None
    assert (pack.preparation_window.min_hours, pack.preparation_window.max_days) == (24, 90)


def test_it_lists_the_same_oregon_documents_as_the_readiness_gate():
    from communitas.programs.readiness import documents_for

    assert [d.kind for d in resolve_pack("US-OR").documents] == [d["kind"] for d in documents_for("US-OR")]


def test_it_ships_no_pack_for_colorado_and_records_the_gap():
    assert [p.jurisdiction for p in shipped_packs().packs] == ["US-OR"]
    assert [g.jurisdiction for g in shipped_packs().gaps] == ["US-CO"]


# --- organization packs -----------------------------------------------------------------------


def community_pack(**changes: Any) -> dict[str, Any]:
    """A Colorado healing center's own policy: numbers of its own, none of Oregon's."""
    day = "2026-01-01"
    pack = {
        "jurisdiction": "US-CO",
        "name": "Front Range Healing Center group policy",
        "substance": "psilocybin",
        "unit": "mg psilocin, total per participant",
        "effective_from": day,
        "sources": {"POL-7": "Front Range group facilitation policy v3, section 2"},
        "group_ratio": {
            "rule": "FR-RATIO",
            "bands": [
                {"min_mg": 0, "max_mg": 12, "max_inclusive": True, "clients_per_facilitator": 10, "source": "POL-7",
                 "effective_from": day},
                {"min_mg": 12, "min_inclusive": False, "clients_per_facilitator": 3, "source": "POL-7",
                 "effective_from": day},
            ],
        },
        "group_cap": {"rule": "FR-CAP", "max_clients": 12, "source": "POL-7", "effective_from": day},
        "duration": {
            "rule": "FR-DURATION",
            "bands": [{"min_mg": 0, "minutes": 420, "source": "POL-7", "effective_from": day}],
        },
        "documents": [
            {"kind": "physical_touch_contract", "label": "Physical touch contract", "source": "POL-7",
             "effective_from": day}
        ],
    }  # fmt: skip
    return pack | changes


def test_it_applies_an_organization_pack_for_a_jurisdiction_without_one():
    pack = organization_pack(community_pack())
    check = check_group_session(jurisdiction="US-CO", doses_mg=[8.0] * 11, facilitators=1, pack=pack)
    assert not check.ok and rules(check.violations) == ["FR-RATIO"]
    assert check.min_facilitators == 2 and check.max_clients == 10 and check.min_duration_minutes == 420
    assert check.violations[0].source == "Front Range group facilitation policy v3, section 2"
    high = check_group_session(jurisdiction="US-CO", doses_mg=[20.0] * 6, facilitators=2, pack=pack)
    assert high.ok and high.max_clients == 6
    capped = check_group_session(jurisdiction="US-CO", doses_mg=[1.0] * 13, facilitators=2, pack=pack)
    assert rules(capped.violations) == ["FR-CAP"]


def test_it_sets_no_limit_an_organization_pack_does_not_set():
    pack = organization_pack(community_pack(group_cap=None, duration=None))
    check = check_group_session(jurisdiction="US-CO", doses_mg=[150.0] * 40, facilitators=20, pack=pack)
    assert check.ok and check.max_clients == 60 and check.min_duration_minutes is None  # no 25 cap, no 50 mg
    assert rules(check.warnings) == ["NO-DURATION-RULE"]
    assert max_dose_mg("US-CO", pack=pack) is None
    assert (
        check_preparation_window(
            jurisdiction="US-CO", preparation_at=PREP, administration_at=PREP + datetime.timedelta(hours=1), pack=pack
        )
        == []
    )


def test_it_applies_a_state_pack_to_a_locality_in_it():
    pack = organization_pack(community_pack())
    assert check_group_session(jurisdiction="US-CO-DEN", doses_mg=[5.0], facilitators=1, pack=pack).ok


def test_it_refuses_an_organization_pack_in_place_of_oregons():
    pack = organization_pack(community_pack(jurisdiction="US-OR"))
    with pytest.raises(ComplianceInputError, match="cannot replace it"):
        check_group_session(jurisdiction="US-OR", doses_mg=[5.0], facilitators=1, pack=pack)


def test_it_refuses_a_pack_for_another_jurisdiction():
    pack = organization_pack(community_pack())
    with pytest.raises(ComplianceInputError, match="does not cover US-NM"):
        check_group_session(jurisdiction="US-NM", doses_mg=[5.0], facilitators=1, pack=pack)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"sources": {}}, "source key 'POL-7'"),
        ({"documents": None}, "documents"),
        ({"group_ratio": {"rule": "R", "bands": []}}, "group_ratio"),
        ({"kind": "shipped"}, "kind 'organization'"),
        ({"cap": 3}, "cap"),
    ],
)
def test_it_refuses_a_malformed_organization_pack(changes, message):
    with pytest.raises(ComplianceInputError, match=message):
        organization_pack(community_pack(**changes))


def test_it_refuses_a_ratio_table_with_a_gap():
    pack = community_pack()
    pack["group_ratio"]["bands"][1]["min_mg"] = 15
    with pytest.raises(ComplianceInputError, match="gap between"):
        organization_pack(pack)


def test_it_reads_an_organization_pack_from_json_text():
    assert organization_pack(json.dumps(community_pack())).jurisdiction == "US-CO"
    with pytest.raises(ComplianceInputError, match="not JSON"):
        organization_pack("{")


def test_it_refuses_an_organization_pack_before_it_takes_effect():
    pack = organization_pack(community_pack())
    with pytest.raises(ComplianceInputError, match="takes effect on 2026-01-01"):
        check_group_session(
            jurisdiction="US-CO", doses_mg=[5.0], facilitators=1, pack=pack, on=datetime.date(2025, 12, 31)
        )
