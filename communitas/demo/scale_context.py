"""What every phase of ``seed-scale`` shares: the plan, the writer, the staff and the primary
keys handed out so far (by person or cohort index)."""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass, field

from communitas.accounts.models import Organization, User
from communitas.demo.scale_plan import Plan
from communitas.demo.scale_writer import Progress, Writer


@dataclass
class Staff:
    coordinator: User
    clinician: User
    users: list[tuple[User, str]]  # (user, role)
    profiles: list[int] = field(default_factory=list)  # facilitator profile ids, staff first
    spanish_profiles: list[int] = field(default_factory=list)
    clinician_profile: int = 0


@dataclass
class Context:
    organization: Organization
    plan: Plan
    rng: random.Random
    writer: Writer
    progress: Progress
    staff: Staff
    now: datetime.datetime
    program_ids: list[int] = field(default_factory=list)
    consent_documents: dict[str, tuple[int, str]] = field(default_factory=dict)  # language -> (id, body hash)
    retreat_ids: list[int] = field(default_factory=list)  # by cohort
    circle_ids: list[int] = field(default_factory=list)  # by cohort
    enrollment_ids: list[int] = field(default_factory=list)  # by person
    meeting_ids: dict[int, list[int]] = field(default_factory=dict)  # cohort -> circle meeting session ids
    session_ids: dict[int, dict[str, int]] = field(default_factory=dict)  # cohort -> kind -> session id
    counts: dict[str, int] = field(default_factory=dict)
    org_id: int = 0

    def __post_init__(self) -> None:
        self.org_id = self.organization.pk

    def cap(self, when: datetime.datetime) -> datetime.datetime:
        """A historical timestamp, never later than now."""
        return min(when, self.now)
