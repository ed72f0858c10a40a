"""The participant's way in, on a phone and without an account: register from an invitation
(or a program's open registration link), sign the consents, complete the intake and, in an Oregon
program, optionally answer the 303 Client Data Form (SB 303) or withhold their data."""

from __future__ import annotations

from django import forms
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from communitas.compliance import selectors as compliance_selectors
from communitas.compliance import services as compliance_services
from communitas.compliance.forms import ClientDataAnswersForm
from communitas.compliance.models import ClientDataForm
from communitas.compliance.sb303 import ClientDataError
from communitas.participants import selectors as participant_selectors
from communitas.participants import services as participant_services
from communitas.participants.models import ConsentScope, Participant, SupportPerson
from communitas.programs import services
from communitas.programs.invitations import InvitationInvalid, invitation_resolve, token_for
from communitas.programs.models import Program
from communitas.safety import screening_selectors
from communitas.safety import screening_services as screening
from communitas.safety.screening.engine import ScreeningInputError
from communitas.safety.screening.intake_form import condition_choices, family_choices, phq9_item9, reason_choices
from communitas.safety.selectors_crisis import crisis_resources_for

LANGUAGES = ("en", "es")
INVALID_STATUS = {"tampered": 404, "expired": 410, "revoked": 410}
SUICIDE_RULES = {"S1", "S2", "S3", "S4", "OR-H"}


class IdentityForm(forms.Form):
    display_name = forms.CharField(label=_("Your name (the one you want us to use)"), max_length=150)
    email = forms.EmailField(label=_("Email"), max_length=254, required=False)
    phone = forms.RegexField(label=_("Phone"), regex=r"^[0-9+().\- ]{4,40}$", max_length=40, required=False)
    preferred_language = forms.ChoiceField(label=_("Language"), choices=[("en", "English"), ("es", "Español")])
    pronouns = forms.CharField(label=_("Pronouns (optional)"), max_length=40, required=False)

    def clean(self):
        data = super().clean() or {}
        if not data.get("email") and not data.get("phone"):
            raise forms.ValidationError(_("Give an email address or a phone number so your team can reach you."))
        return data


class ConsentForm(forms.Form):
    typed_name = forms.CharField(label=_("Type your full name to sign"), max_length=150, min_length=2)

    def __init__(self, *args, document, **kwargs):
        super().__init__(*args, **kwargs)
        from communitas.participants.models import ConsentScope

        labels = dict(ConsentScope.choices)
        for scope in document.scopes:
            self.fields[f"scope_{scope}"] = forms.BooleanField(
                label=labels.get(scope, scope), required=scope in document.required_scopes
            )

    def granted(self) -> set[str]:
        return {name[6:] for name, value in self.cleaned_data.items() if name.startswith("scope_") and value}


def _render(request, template, context, language, status=200):
    with translation.override(language):
        response = render(request, template, {**context, "language": language}, status=status)
    add_never_cache_headers(response)
    return response


def _language(request, participant: Participant | None) -> str:
    for lang in (request.GET.get("lang"), participant.preferred_language if participant else None):
        if lang in LANGUAGES:
            return lang
    return "en"


def _invitation(request, token):
    try:
        return invitation_resolve(token), None
    except InvitationInvalid as exc:
        page = _render(
            request,
            "programs/journey/invalid.html",
            {"reason": exc.reason},
            _language(request, None),
            status=INVALID_STATUS[exc.reason],
        )
        return None, page


def _next_document(invitation):
    signed = set(invitation.participant.consent_signatures.values_list("document_id", flat=True))
    return next((d for d in invitation.program.consent_documents.all().order_by("id") if d.pk not in signed), None)


def _next_step(invitation, token):
    if invitation.participant is None:
        return None
    if _next_document(invitation) is not None:
        return redirect("journey:consent", token=token)
    intake = screening_selectors.intake_for(invitation.participant, invitation.program.substance)
    if intake is None or intake.status != "submitted":
        return redirect("journey:intake", token=token)
    return redirect("journey:done", token=token)


def register(request, key: str):
    """A program's open registration page: creates a personal invitation, then the journey."""
    program = (
        Program.objects.select_related("organization").filter(registration_key=key, registration_open=True).first()
    )
    language = _language(request, None)
    if program is None:
        return _render(request, "programs/journey/invalid.html", {"reason": "closed"}, language, status=404)
    form = IdentityForm(request.POST or None, initial={"preferred_language": language})
    if request.method == "POST" and form.is_valid():
        invitation = services.invitation_create(program=program, actor=None)
        services.participant_register(invitation=invitation, identity=form.cleaned_data)
        return redirect("journey:start", token=token_for(invitation))
    return _render(request, "programs/journey/identity.html", {"form": form, "program": program}, language)


def start(request, token: str):
    invitation, invalid = _invitation(request, token)
    if invalid:
        return invalid
    if invitation.participant is not None:
        return _next_step(invitation, token)
    language = _language(request, None)
    form = IdentityForm(request.POST or None, initial={"preferred_language": language})
    if request.method == "POST" and form.is_valid():
        services.participant_register(invitation=invitation, identity=form.cleaned_data)
        invitation.refresh_from_db()
        return _next_step(invitation, token)
    return _render(request, "programs/journey/identity.html", {"form": form, "program": invitation.program}, language)


def consent(request, token: str):
    invitation, invalid = _invitation(request, token)
    if invalid:
        return invalid
    if invitation.participant is None:
        return redirect("journey:start", token=token)
    document = _next_document(invitation)
    if document is None:
        return _next_step(invitation, token)
    language = _language(request, invitation.participant)
    form = ConsentForm(request.POST or None, document=document)
    if request.method == "POST" and form.is_valid():
        try:
            participant_services.consent_sign(
                participant=invitation.participant,
                document=document,
                typed_name=form.cleaned_data["typed_name"],
                granted=form.granted(),
                via="link",
            )
        except participant_services.ConsentError as exc:
            form.add_error(None, str(exc))
        else:
            return _next_step(invitation, token)
    context = {"form": form, "document": document, "program": invitation.program}
    return _render(request, "programs/journey/consent.html", context, language, status=400 if form.errors else 200)


def _oregon(program: Program) -> bool:
    return program.jurisdiction == "US-OR" or program.jurisdiction.startswith("US-OR-")


def _intake(invitation):
    return screening.intake_start(
        participant=invitation.participant,
        substance=invitation.program.substance,
        jurisdiction=invitation.program.jurisdiction,
    )


def _form_answers(post) -> dict:
    answers = {key: post.get(key, "") for key in INTAKE_TEXT_FIELDS if key in post}
    for key in ("conditions", "family_history", "reasons"):
        if f"{key}_present" in post:
            answers[key] = post.getlist(key)
    return answers


INTAKE_TEXT_FIELDS = (
    "date_of_birth",
    "pregnant",
    "breastfeeding",
    "medications",
    "stopped_medications",
    "phq9_item9",
    "harm_ideation",
    "reasons_other",
    "gender_identity",
    "race_ethnicity",
    "veteran",
    "written_language",
    "interpreter",
    "accessibility_needs",
    "cultural_background",
    "support_name",
    "support_relationship",
    "support_phone",
    "support_may_contact",
)


def intake(request, token: str):
    invitation, invalid = _invitation(request, token)
    if invalid:
        return invalid
    if invitation.participant is None or _next_document(invitation) is not None:
        return _next_step(invitation, token) or redirect("journey:start", token=token)
    record = _intake(invitation)
    if record.status == "submitted":
        return redirect("journey:done", token=token)
    language = _language(request, invitation.participant)
    error, status = "", 200
    if request.method == "POST":
        record = screening.intake_save(intake=record, answers=_form_answers(request.POST))
        if request.POST.get("action") != "save":
            try:
                screening.intake_submit(intake=record)
            except ScreeningInputError as exc:
                error, status = str(exc), 400
            else:
                _copy_profile(invitation.participant, record.answers)
                return redirect("journey:done", token=token)
    item9_text, item9_options = phq9_item9()
    context = {
        "program": invitation.program,
        "answers": record.answers,
        "error": error,
        "token": token,
        "conditions": condition_choices(),
        "family": family_choices(),
        "reasons": reason_choices(),
        "item9_text": item9_text,
        "item9_options": item9_options,
        "oregon": _oregon(invitation.program),
        "support_relationships": SupportPerson.Relationship.choices,
    }
    return _render(request, "programs/journey/intake.html", context, language, status=status)


@require_POST
def intake_autosave(request, token: str):
    invitation, invalid = _invitation(request, token)
    if invalid:
        return invalid
    if invitation.participant is None:
        return redirect("journey:start", token=token)
    screening.intake_save(intake=_intake(invitation), answers=_form_answers(request.POST))
    return _render(request, "programs/journey/_saved.html", {}, _language(request, invitation.participant))


def _copy_profile(participant: Participant, answers: dict) -> None:
    """What the intake says about the person (not their health) goes onto their record."""
    changes = {k: str(answers[k])[:1000] for k in ("cultural_background", "accessibility_needs") if answers.get(k)}
    if answers.get("interpreter") == "yes":
        changes["accessibility_needs"] = (changes.get("accessibility_needs", "") + "\nNeeds an interpreter.").strip()
    if changes:
        participant_services.participant_update(participant=participant, actor=None, **changes)
    if answers.get("support_name"):
        participant_services.support_person_create(
            participant=participant,
            actor=None,
            name=str(answers["support_name"])[:150],
            relationship=answers.get("support_relationship") or "other",
            phone=str(answers.get("support_phone", ""))[:40],
            may_contact=answers.get("support_may_contact") == "yes",
        )


def done(request, token: str):
    invitation, invalid = _invitation(request, token)
    if invalid:
        return invalid
    if invitation.participant is None:
        return redirect("journey:start", token=token)
    language = _language(request, invitation.participant)
    latest = screening_selectors.latest_screening(invitation.participant, invitation.program.substance)
    show_crisis = latest is not None and bool(SUICIDE_RULES & set(latest.rule_ids))
    state = participant_selectors.consent_state(invitation.participant)
    oregon = _oregon(invitation.program)
    context = {
        "program": invitation.program,
        "token": token,
        "crisis_resources": crisis_resources_for(invitation.organization_id, language) if show_crisis else [],
        "consents": [(value, label, state[value]) for value, label in ConsentScope.choices if value in state],
        "oregon": oregon,
        "client_data": compliance_selectors.client_data_newest(invitation.participant) if oregon else None,
    }
    return _render(request, "programs/journey/done.html", context, language)


def client_data(request, token: str):
    """Oregon's 303 Client Data Form, answered by the participant themselves (optional; Oregon
    programs only). Every answer may be left out; withholding keeps no answers at all."""
    invitation, invalid = _invitation(request, token)
    if invalid:
        return invalid
    if invitation.participant is None or _next_document(invitation) is not None:
        return _next_step(invitation, token) or redirect("journey:start", token=token)
    if not _oregon(invitation.program):
        raise Http404("the 303 client data form is for Oregon programs")
    participant = invitation.participant
    newest = compliance_selectors.client_data_newest(participant)
    initial = ClientDataAnswersForm.initial_for(newest=newest, language=participant.preferred_language)
    form = ClientDataAnswersForm(request.POST if request.method == "POST" else None, initial=initial, by_client=True)
    if form.is_bound and form.is_valid():
        try:
            compliance_services.client_data_record(
                participant=participant, actor=None, via=ClientDataForm.Via.LINK, **form.record_kwargs()
            )
        except ClientDataError as exc:
            form.add_error(None, str(exc))
        else:
            return redirect(reverse("journey:done", kwargs={"token": token}) + "#client-data")
    context = {"program": invitation.program, "token": token, "form": form, "newest": newest}
    status = 400 if form.errors else 200
    return _render(request, "programs/journey/client_data.html", context, _language(request, participant), status)


@require_POST
def withdraw(request, token: str):
    """The participant withdraws one of their consents themselves; effective at once."""
    invitation, invalid = _invitation(request, token)
    if invalid:
        return invalid
    if invitation.participant is None:
        return redirect("journey:start", token=token)
    try:
        participant_services.consent_withdraw(participant=invitation.participant, scope=request.POST.get("scope", ""))
    except participant_services.ConsentError:
        return _render(request, "programs/journey/invalid.html", {"reason": "tampered"}, "en", status=400)
    return redirect("journey:done", token=token)
