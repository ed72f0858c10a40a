"""Only a named clinician's recorded decision with a reason changes a screening outcome."""

import pytest

from communitas.accounts.models import Membership
from communitas.core.models import AuditEntry
from communitas.safety.models import ScreeningDecision
from communitas.safety.screening.decisions import effective_outcome
from communitas.safety.screening_selectors import screening_status
from communitas.safety.screening_services import (
    ScreeningDecisionError,
    intake_record_measurements,
    intake_save,
    intake_start,
    intake_submit,
    screening_decide,
)

REVIEW = {"rule": "N1", "severity": "requires_medical_review", "overridable": True}
EXCLUDE = {"rule": "D1", "severity": "exclude", "overridable": True}
LEGAL = {"rule": "A1", "severity": "exclude", "overridable": False}
CAUTION = {"rule": "D3", "severity": "caution", "overridable": True}


@pytest.mark.parametrize(
    ("reasons", "decisions", "expected"),
    [
        ([REVIEW], [], "needs_review"),
        ([REVIEW], [("clear", ["N1"])], "eligible"),
        ([EXCLUDE, REVIEW], [("clear", ["N1"])], "excluded"),
        ([EXCLUDE, REVIEW], [("clear", ["N1", "D1"])], "eligible"),
        ([LEGAL], [("clear", ["A1"])], "excluded"),
        ([CAUTION], [], "eligible"),
        ([CAUTION], [("exclude", [])], "excluded"),
        ([REVIEW], [("clear", ["N1"]), ("exclude", [])], "excluded"),
        ([EXCLUDE], [("clear", ["X9"])], "excluded"),
    ],
)
def test_it_works_out_the_outcome_after_decisions(reasons, decisions, expected):
    assert effective_outcome(reasons, decisions) == expected


@pytest.fixture
def screened(participant):
    intake = intake_start(participant=participant, substance="psilocybin", jurisdiction="US-OR")
    answers = {
        "date_of_birth": "2008-01-01",
        "phq9_item9": "0",
        "conditions": ["seizure_disorder"],
        "medications": "lithium",
    }
    intake_save(intake=intake, answers=answers)
    return intake_submit(intake=intake)


def test_a_non_clinician_cannot_decide(screened, alice):
    with pytest.raises(ScreeningDecisionError, match="licensed clinician"):
        screening_decide(
            screening=screened,
            clinician=alice,
            decision="clear",
            rule_ids=["N1"],
            reason="Looks fine to me, no seizures lately.",
        )
    assert not ScreeningDecision.objects.exists()


def test_a_clinician_from_another_organization_cannot_decide(screened, charlie):
    Membership.objects.filter(user=charlie).update(is_clinician=True)
    with pytest.raises(ScreeningDecisionError):
        screening_decide(
            screening=screened,
            clinician=charlie,
            decision="clear",
            rule_ids=["N1"],
            reason="Reviewed the chart from another site.",
        )


def test_a_clinician_cannot_clear_a_legal_age_limit_and_must_give_a_reason(screened, alice, participant):
    Membership.objects.filter(user=alice).update(is_clinician=True)
    assert {"A1", "D1", "N1"} <= set(screened.rule_ids)
    with pytest.raises(ScreeningDecisionError, match="cannot be cleared: A1"):
        screening_decide(
            screening=screened,
            clinician=alice,
            decision="clear",
            rule_ids=["A1", "D1", "N1"],
            reason="Mature for their age and lithium stopped.",
        )
    with pytest.raises(ScreeningDecisionError, match="reason"):
        screening_decide(screening=screened, clinician=alice, decision="clear", rule_ids=["N1"], reason="ok")
    screening_decide(
        screening=screened,
        clinician=alice,
        decision="clear",
        rule_ids=["D1", "N1"],
        reason="Lithium stopped 6 months ago per prescriber; seizure history was febrile only.",
    )
    assert screening_status(participant, "psilocybin").outcome == "excluded"  # A1 still stands
    assert AuditEntry.objects.filter(action="safety.screening.decided").count() == 1


def test_a_new_run_never_inherits_an_earlier_clearance(screened, alice, participant):
    Membership.objects.filter(user=alice).update(is_clinician=True)
    screening_decide(
        screening=screened,
        clinician=alice,
        decision="clear",
        rule_ids=["N1", "D1"],
        reason="Reviewed with the prescriber and neurologist today.",
    )
    rerun = intake_record_measurements(intake=screened.intake, actor=alice, measurements={"heart_rate": 72})
    assert rerun.pk != screened.pk and not rerun.decisions.exists()
    assert screening_status(participant, "psilocybin").outcome == "excluded"
