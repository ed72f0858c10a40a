from typing import ClassVar

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from communitas.core.models import BaseModel


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra):
        if not email:
            raise ValueError("users need an email address")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra):
        extra.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A staff member who logs in. Participants are people, not necessarily users."""

    email = models.EmailField(_("email"), unique=True)
    full_name = models.CharField(_("full name"), max_length=150, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    def __str__(self) -> str:
        return self.full_name or self.email


class Organization(BaseModel):
    class Kind(models.TextChoices):
        SERVICE_CENTER = "service_center", _("Service center")
        RETREAT_CENTER = "retreat_center", _("Retreat center")
        COMMUNITY_ORGANIZATION = "community_organization", _("Community organization")
        RESEARCH_SITE = "research_site", _("Research site")
        CLINIC = "clinic", _("Clinic")

    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    jurisdiction = models.CharField(
        _("jurisdiction"), max_length=16, blank=True, help_text=_("ISO 3166-2 code, e.g. US-OR.")
    )
    require_two_factor = models.BooleanField(_("require two-factor sign-in for staff"), default=False)

    def __str__(self) -> str:
        return self.name


class Membership(BaseModel):
    class Role(models.TextChoices):
        COORDINATOR = "coordinator", _("Coordinator")
        FACILITATOR = "facilitator", _("Facilitator")
        PEER_SUPPORTER = "peer_supporter", _("Peer supporter")
        CEREMONIAL_GUIDE = "ceremonial_guide", _("Ceremonial guide")
        RESEARCHER = "researcher", _("Researcher")
        ADMIN = "admin", _("Administrator")
        HOSPITALITY = "hospitality", _("Retreat or hospitality staff")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    is_active = models.BooleanField(default=True)
    is_clinician = models.BooleanField(
        _("licensed clinician"),
        default=False,
        help_text=_("May record screening decisions (a licensed clinician, e.g. physician, nurse practitioner)."),
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "organization"], name="membership_unique_user_org"),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.organization} ({self.role})"


class ApiToken(BaseModel):
    """A per-user, per-organization bearer token. Only its SHA-256 is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=12)
    token_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "organization"], name="apitoken_user_org_idx")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_usable(self) -> bool:
        now = timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)
