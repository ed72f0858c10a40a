"""Group-formation pages for coordinators: choose the rules and form circles for a retreat, read
the result (each placement explained, each rule's report, conflicts when nothing fits), lock some
placements and run again, apply a result to the circles, and record what matching needs to know
about a person (gender, whom they asked to be with)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from communitas.community import formation_services as services
from communitas.community.formation import FormationInputError
from communitas.community.models import FormationRun, MatchingProfile
from communitas.facilitators.models import FacilitatorProfile
from communitas.participants.models import Participant
from communitas.programs.models import Retreat
from communitas.programs.permissions import can_manage_programs, require

ATTRIBUTE_LABELS = {
    "gender": gettext_lazy("Gender"),
    "age_band": gettext_lazy("Age band"),
    "veteran": gettext_lazy("Veteran"),
}


class FormationForm(forms.Form):
    facilitators_per_circle = forms.IntegerField(
        label=gettext_lazy("Facilitators per circle"), min_value=1, max_value=4, initial=1
    )
    max_circles_per_facilitator = forms.IntegerField(
        label=gettext_lazy("Circles one facilitator may lead"), min_value=1, max_value=4, initial=1
    )
    no_isolation = forms.MultipleChoiceField(
        label=gettext_lazy("Nobody the only one of their kind in a circle (0 or at least 2)"),
        choices=list(ATTRIBUTE_LABELS.items()),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    balance = forms.MultipleChoiceField(
        label=gettext_lazy("Balance across circles"),
        choices=list(ATTRIBUTE_LABELS.items()),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    weight_together = forms.IntegerField(
        label=gettext_lazy("Weight: keep people who asked to be together"), min_value=0, max_value=100, initial=10
    )
    weight_no_isolation = forms.IntegerField(
        label=gettext_lazy("Weight: nobody isolated"), min_value=0, max_value=100, initial=5
    )
    weight_balance = forms.IntegerField(label=gettext_lazy("Weight: balance"), min_value=0, max_value=100, initial=1)
    weight_schedule = forms.IntegerField(
        label=gettext_lazy("Weight: meetings at times that suit people"), min_value=0, max_value=100, initial=2
    )
    time_limit = forms.IntegerField(
        label=gettext_lazy("Time limit (seconds)"), min_value=1, max_value=services.MAX_TIME_LIMIT_S, initial=10
    )

    def __init__(self, *args, circles, **kwargs):
        super().__init__(*args, **kwargs)
        self.circles = circles
        for circle in circles:
            self.fields[f"min_{circle.pk}"] = forms.IntegerField(
                label=_("Fewest people in %(name)s (holds %(capacity)s)")
                % {"name": circle.name, "capacity": circle.capacity},
                min_value=0,
                max_value=circle.capacity,
                initial=min(2, circle.capacity),
            )

    def min_fields(self):
        return [self[f"min_{circle.pk}"] for circle in self.circles]

    def choices(self) -> dict:
        data = self.cleaned_data
        return {
            "min_sizes": {circle.pk: data[f"min_{circle.pk}"] for circle in self.circles},
            "facilitators_per_circle": data["facilitators_per_circle"],
            "max_circles_per_facilitator": data["max_circles_per_facilitator"],
            "no_isolation": data["no_isolation"],
            "balance": data["balance"],
            "weights": {
                "together": data["weight_together"],
                "no_isolation": data["weight_no_isolation"],
                "balance": data["weight_balance"],
                "schedule": data["weight_schedule"],
            },
        }

    @staticmethod
    def initial_from(run: FormationRun | None) -> dict:
        if run is None:
            return {}
        rules = run.problem["rules"]
        weights = rules.get("weights", {})
        initial = {
            "facilitators_per_circle": rules.get("facilitators_per_circle", 1),
            "max_circles_per_facilitator": max((f["max_circles"] for f in run.problem["facilitators"]), default=1),
            "no_isolation": rules.get("no_isolation", []),
            "balance": rules.get("balance", []),
            "weight_together": weights.get("together", 10),
            "weight_no_isolation": weights.get("no_isolation", 5),
            "weight_balance": weights.get("balance", 1),
            "weight_schedule": weights.get("schedule", 2),
        }
        for circle in run.problem["circles"]:
            initial[f"min_{circle['id'][1:]}"] = circle["min_size"]
        return initial


class MatchingForm(forms.Form):
    gender = forms.ChoiceField(label=gettext_lazy("Gender (as the person describes it)"), required=False)
    together_with = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Asked to be in the same circle as"),
        queryset=Participant.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    def __init__(self, *args, others, **kwargs):
        super().__init__(*args, **kwargs)
        gender = self.fields["gender"]
        together = self.fields["together_with"]
        assert isinstance(gender, forms.ChoiceField) and isinstance(together, forms.ModelMultipleChoiceField)
        gender.choices = MatchingProfile.Gender.choices
        together.queryset = others


def _manager(request):
    return require(can_manage_programs, request.membership)


def _retreat(membership, retreat_id: int) -> Retreat:
    retreat = (
        Retreat.objects.select_related("program")
        .filter(organization_id=membership.organization_id, pk=retreat_id)
        .first()
    )
    if retreat is None:
        raise Http404("no such retreat")
    return retreat


def _run(membership, run_id: int) -> FormationRun:
    run = (
        FormationRun.objects.select_related("retreat", "retreat__program")
        .filter(organization_id=membership.organization_id, pk=run_id)
        .first()
    )
    if run is None:
        raise Http404("no such run")
    return run


def _people_rows(retreat: Retreat) -> list[dict]:
    people = services.retreat_applicants(retreat)
    return [
        {"participant": person, **row}
        for person, row in zip(people, services.applicant_rows(retreat, people), strict=True)
    ]


@login_required
def formation_page(request, retreat_id: int):
    membership = _manager(request)
    retreat = _retreat(membership, retreat_id)
    circles = services.retreat_circles(retreat)
    runs = list(FormationRun.objects.filter(retreat=retreat).order_by("-created_at", "-pk")[:10])
    form = FormationForm(
        request.POST or None, circles=circles, initial=FormationForm.initial_from(runs[0] if runs else None)
    )
    if request.method == "POST" and form.is_valid():
        try:
            run = services.formation_run_create(
                retreat=retreat, actor=request.user, time_limit_s=form.cleaned_data["time_limit"], **form.choices()
            )
        except FormationInputError as exc:
            form.add_error(None, str(exc))
        else:
            return redirect("community:formation_run", run.pk)
    context = {"retreat": retreat, "circles": circles, "form": form, "runs": runs, "people": _people_rows(retreat)}
    return render(request, "community/formation/retreat.html", context)


def _names(run: FormationRun) -> tuple[dict, dict, dict]:
    people = {p.pseudonym: p for p in services.retreat_applicants(run.retreat)}
    circles = {f"c{c.pk}": c for c in services.retreat_circles(run.retreat)}
    ids = [int(f["id"][1:]) for f in run.problem["facilitators"]]
    staff = {f"f{p.pk}": p for p in FacilitatorProfile.objects.filter(organization_id=run.organization_id, pk__in=ids)}
    return people, circles, staff


@login_required
def formation_run(request, run_id: int):
    membership = _manager(request)
    run = _run(membership, run_id)
    people, circles, staff = _names(run)
    result = run.result
    locks = run.problem.get("locks", {})
    groups = []
    for key, circle in circles.items():
        members = sorted((a for a, c in result.get("assignments", {}).items() if c == key))
        groups.append(
            {
                "circle": circle,
                "leads": [staff.get(f) for f in result.get("facilitators", {}).get(key, [])],
                "members": [
                    {
                        "id": a,
                        "person": people.get(a),
                        "locked": a in locks,
                        "why": result.get("explanations", {}).get(a, []),
                    }
                    for a in members
                ],
            }
        )
    context = {
        "run": run,
        "retreat": run.retreat,
        "result": result,
        "groups": groups,
        "solved": run.status in ("optimal", "feasible"),
        "unassigned": [people.get(a) or a for a in result.get("unassigned", [])],
    }
    return render(request, "community/formation/run.html", context)


@require_POST
@login_required
def formation_rerun(request, run_id: int):
    """The same choices as ``run``, with the ticked placements locked."""
    membership = _manager(request)
    previous = _run(membership, run_id)
    assignments = previous.result.get("assignments", {})
    locks = {a: assignments[a] for a in request.POST.getlist("lock") if a in assignments}
    problem = previous.problem
    rules = problem["rules"]
    try:
        run = services.formation_run_create(
            retreat=previous.retreat,
            actor=request.user,
            time_limit_s=services.MAX_TIME_LIMIT_S // 3,
            min_sizes={int(c["id"][1:]): c["min_size"] for c in problem["circles"]},
            facilitators_per_circle=rules.get("facilitators_per_circle", 1),
            max_circles_per_facilitator=max((f["max_circles"] for f in problem["facilitators"]), default=1),
            no_isolation=rules.get("no_isolation", []),
            balance=rules.get("balance", []),
            weights=rules.get("weights", {}),
            locks=locks,
            hint=assignments,
        )
    except FormationInputError as exc:
        messages.error(request, str(exc))
        return redirect("community:formation_run", previous.pk)
    messages.success(request, _("Formed again with %(count)s placement(s) locked.") % {"count": len(locks)})
    return redirect("community:formation_run", run.pk)


@require_POST
@login_required
def formation_apply(request, run_id: int):
    membership = _manager(request)
    run = _run(membership, run_id)
    try:
        services.formation_run_apply(run=run, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The circles now hold these people and facilitators."))
    return redirect("community:formation_run", run.pk)


@login_required
def matching_profile(request, retreat_id: int, participant_id: int):
    membership = _manager(request)
    retreat = _retreat(membership, retreat_id)
    applicants = services.retreat_applicants(retreat)
    person = next((p for p in applicants if p.pk == participant_id), None)
    if person is None:
        raise Http404("not an applicant of this retreat")
    others = Participant.objects.filter(pk__in=[p.pk for p in applicants if p.pk != person.pk]).order_by("pseudonym")
    profile = MatchingProfile.objects.filter(participant=person).first()
    initial = {"gender": profile.gender, "together_with": list(profile.together_with.all())} if profile else {}
    form = MatchingForm(request.POST or None, others=others, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.matching_profile_save(
                participant=person,
                actor=request.user,
                gender=form.cleaned_data["gender"],
                together_with=list(form.cleaned_data["together_with"]),
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("community:formation", retreat.pk)
    return render(request, "community/formation/person.html", {"retreat": retreat, "person": person, "form": form})
