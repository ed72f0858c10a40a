from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from communitas.core.fields import (
    EncryptedCharField,
    EncryptedDateField,
    EncryptedEmailField,
    EncryptedTextField,
)
from communitas.core.models import OrganizationScopedModel

language_tag = RegexValidator(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$", _("Use a language tag such as en, es or pt-BR."))


def not_in_future(value) -> None:
    if value and value > timezone.localdate():
        raise ValidationError(_("A date of birth cannot be in the future."))


phone_number = RegexValidator(r"^[0-9+().\- ]{4,40}$", _("Use digits, spaces and + ( ) - . only."))


class Participant(OrganizationScopedModel):
    """A person in a program. Identity and sensitive free text are encrypted at rest; the
    pseudonym is what research exports and logs use."""

    pseudonym = models.CharField(_("pseudonym"), max_length=16, editable=False)
    display_name = EncryptedCharField(_("name used in the program"), max_length=150)
    legal_name = EncryptedCharField(_("legal name"), max_length=150, blank=True)
    email = EncryptedEmailField(_("email"), max_length=254, blank=True)
    phone = EncryptedCharField(_("phone"), max_length=40, blank=True, validators=[phone_number])
    date_of_birth = EncryptedDateField(_("date of birth"), null=True, blank=True, validators=[not_in_future])
    preferred_language = models.CharField(
        _("preferred language"), max_length=16, default="en", validators=[language_tag]
    )
    pronouns = models.CharField(_("pronouns"), max_length=40, blank=True)
    cultural_background = EncryptedTextField(
        _("cultural or spiritual background (self-described)"), max_length=1000, blank=True
    )
    accessibility_needs = EncryptedTextField(_("accessibility needs"), max_length=1000, blank=True)
    archived_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "pseudonym"], name="participant_unique_pseudonym"),
        ]
        indexes = [
            models.Index(fields=["organization", "archived_at", "-created_at"], name="participant_org_list_idx"),
        ]

    def __str__(self) -> str:
        return self.pseudonym


class SupportPerson(OrganizationScopedModel):
    """Family, friends or peers a participant names, and whether they may be contacted."""

    class Relationship(models.TextChoices):
        PARTNER = "partner", _("Partner or spouse")
        FAMILY = "family", _("Family member")
        FRIEND = "friend", _("Friend")
        PEER = "peer", _("Peer (lived experience)")
        CHOSEN_FAMILY = "chosen_family", _("Chosen family")
        SPIRITUAL = "spiritual", _("Spiritual or community leader")
        CLINICIAN = "clinician", _("Clinician or therapist")
        OTHER = "other", _("Other")

    participant = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="support_persons")
    name = EncryptedCharField(_("name"), max_length=150)
    relationship = models.CharField(_("relationship"), max_length=20, choices=Relationship.choices)
    email = EncryptedEmailField(_("email"), max_length=254, blank=True)
    phone = EncryptedCharField(_("phone"), max_length=40, blank=True, validators=[phone_number])
    may_contact = models.BooleanField(_("participant consents to us contacting this person"), default=False)
    notes = EncryptedTextField(_("notes"), max_length=2000, blank=True)
    archived_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        indexes = [models.Index(fields=["participant", "archived_at"], name="supportperson_participant_idx")]

    def __str__(self) -> str:
        return f"{self.get_relationship_display()} of {self.participant_id}"


class ParticipantSearchToken(models.Model):
    """Blind index: keyed hashes of normalized name/email/phone prefixes, so staff can search
    encrypted identities without the database ever holding them in the clear."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="+")
    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="search_tokens")
    token = models.CharField(max_length=24)

    class Meta:
        indexes = [models.Index(fields=["organization", "token"], name="participant_token_idx")]
        constraints = [
            models.UniqueConstraint(fields=["participant", "token"], name="participant_token_unique"),
        ]

    def __str__(self) -> str:
        return self.token


class ConsentScope(models.TextChoices):
    """What a participant can agree to, each separately and each withdrawable at any time."""

    PARTICIPATION = "participation", _("Taking part in the program")
    RESEARCH = "research", _("Use of my de-identified data for research")
    STATE_REPORTING = "state_reporting", _("Including my data in state reports (Oregon SB 303); declining opts out")
    SUPPORTIVE_TOUCH = "supportive_touch", _("Supportive touch (hands, feet or shoulders; hugs) when I ask for it")
    RECORDING = "recording", _("Audio or video recording of sessions")
    CONTACT_SUPPORT_PEOPLE = "contact_support_people", _("Contacting the support people I named")
    SHARE_REFLECTIONS = "share_reflections", _("Sharing my reflections with my group")


class ConsentDocument(OrganizationScopedModel):
    """One version of a consent text. Published versions never change: a new wording is a new
    version, and every signature keeps the SHA-256 of exactly what was shown."""

    title = models.CharField(_("title"), max_length=200)
    version = models.CharField(_("version"), max_length=40)
    language = models.CharField(_("language"), max_length=16, default="en", validators=[language_tag])
    body = models.TextField(_("text"), max_length=40000)
    scopes = models.JSONField(_("scopes asked"), help_text=_("Scope codes the document asks about, each a choice."))
    required_scopes = models.JSONField(_("scopes required to take part"), default=list, blank=True)
    body_hash = models.CharField(max_length=64, editable=False)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "title", "version", "language"], name="consent_document_unique_version"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} v{self.version} ({self.language})"


class ConsentSignature(OrganizationScopedModel):
    """An e-signature: typed name, time, and the hash of the document text that was signed."""

    participant = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="consent_signatures")
    document = models.ForeignKey(ConsentDocument, on_delete=models.PROTECT, related_name="signatures")
    typed_name = EncryptedCharField(_("typed name"), max_length=150)
    document_hash = models.CharField(max_length=64)
    signed_at = models.DateTimeField()
    via = models.CharField(max_length=10, choices=[("link", "participant link"), ("staff", "with staff")])

    def __str__(self) -> str:
        return f"{self.participant_id} signed {self.document_id}"


class ConsentDecision(OrganizationScopedModel):
    """A participant's yes or no to one scope, from one signature; a withdrawal ends a yes."""

    participant = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="consent_decisions")
    signature = models.ForeignKey(ConsentSignature, on_delete=models.PROTECT, related_name="decisions")
    scope = models.CharField(max_length=40, choices=ConsentScope.choices)
    granted = models.BooleanField()
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["participant", "scope", "withdrawn_at"], name="consent_decision_state_idx")]

    def __str__(self) -> str:
        return f"{self.scope}={'yes' if self.granted else 'no'}"


class RecordRequest(OrganizationScopedModel):
    """A participant's request about their own record (OAR 333-333-4820, research/regulatory.md
    §1.7 [R7]): an addendum that corrects it, or its destruction once the retention period has
    ended. Made through their community-space link or by staff on their behalf; decided by a
    named person. The texts are encrypted; the row itself is kept after a destruction, as the
    record of who destroyed what and when (``records.py``)."""

    class Kind(models.TextChoices):
        CORRECTION = "correction", _("Correction (addendum)")
        DESTRUCTION = "destruction", _("Destruction after the retention period")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")
        DONE = "done", _("Done")

    class Via(models.TextChoices):
        LINK = "link", _("Participant link")
        STAFF = "staff", _("Staff, on the participant's behalf")

    participant = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="record_requests")
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    text = EncryptedTextField(_("request"), max_length=4000, blank=True)
    via = models.CharField(max_length=8, choices=Via.choices)
    requested_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    decided_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = EncryptedTextField(_("decision note"), max_length=4000, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=["correction", "destruction"]), name="record_request_kind_known"
            ),
            models.CheckConstraint(
                condition=models.Q(status="open", decided_at__isnull=True, decided_by__isnull=True)
                | models.Q(
                    status__in=["accepted", "declined", "done"], decided_at__isnull=False, decided_by__isnull=False
                ),
                name="record_request_decided_when_closed",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind="correction", status="done")
                & ~models.Q(kind="destruction", status="accepted"),
                name="record_request_status_fits_kind",
            ),
            models.CheckConstraint(
                condition=models.Q(via="link", requested_by__isnull=True)
                | models.Q(via="staff", requested_by__isnull=False),
                name="record_request_requester",
            ),
            models.UniqueConstraint(
                fields=["participant"],
                condition=models.Q(kind="destruction", status="open"),
                name="record_request_one_open_destruction",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "status", "created_at"], name="record_request_open_idx"),
            models.Index(fields=["participant", "-created_at"], name="record_request_participant_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} request {self.pk} ({self.status})"


class RecordAddendum(OrganizationScopedModel):
    """What an accepted correction adds to a record. The original entries are never changed: the
    addendum sits beside them, in the participant's download and on the staff pages."""

    participant = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="record_addenda")
    request = models.OneToOneField(RecordRequest, on_delete=models.PROTECT, related_name="addendum")
    text = EncryptedTextField(_("addendum"), max_length=4000)
    added_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")

    def __str__(self) -> str:
        return f"addendum {self.pk} to {self.participant_id}"
