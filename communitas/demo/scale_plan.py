"""The plan of a scaled organization, drawn from one seeded random generator before anything is
written: programs, cohorts (one retreat and one integration circle each, about 100 people),
people with their journey state, and the few sample rows the load benchmark visits. Pure: no
database access, so the same seed and day give the same plan.

Cohorts' retreats are spread evenly from about two years ago to two weeks ahead. Everyone
belongs to one cohort of one program. Their journey state (``kind``):

- ``A`` active: enrolled (``completed`` a year on), administered at the retreat;
- ``P`` paused after the retreat; ``W`` withdrew some time after it;
- ``X`` excluded at screening (rare; never reached a retreat);
- ``E`` enrolled and ready for an upcoming retreat; ``Q`` still applying for one (``step``).
"""

from __future__ import annotations

import datetime
import math
import random
from dataclasses import dataclass, field

from communitas.core.crypto import normalize_term
from communitas.demo import people

PER_CIRCLE = 100
PER_PROGRAM = 12_500
HISTORY_DAYS = 720
AHEAD_DAYS = 14
SAMPLE_DAYS_AGO = 31  # the sample cohort's retreat began a month ago
MEETINGS = 10  # fortnightly integration meetings after each retreat
NO_CIRCLE = 0.03  # of those who could join their cohort's circle
PROPENSITY = (3.0, 2.0)  # engagement: Beta(a, b), mean 0.6 (as in the demo's insights seed)
CIRCLE_SHIFT_SD = 0.05
CORE = ("phq9", "gad7", "who5")


@dataclass(frozen=True)
class ProgramSpec:
    name: str
    short: str
    instruments: tuple[str, ...]
    affinity: str = ""
    language: str = ""  # "es": a Spanish-language program
    description: str = ""


PROGRAMS = (
    ProgramSpec("Community psilocybin circles", "Community", (*CORE, "ucla3")),
    ProgramSpec("Veterans' healing program", "Veterans", ("pcl5", *CORE), affinity="veterans"),
    ProgramSpec("Círculos comunitarios en español", "Círculos", (*CORE, "ucla3"), language="es"),
    ProgramSpec("Grief and loss program", "Grief", (*CORE, "ucla3")),
    ProgramSpec("BIPOC healing collective", "BIPOC", (*CORE, "ucla3"), affinity="BIPOC"),
    ProgramSpec("Healthcare workers' burnout program", "Healthcare", (*CORE, "ucla3"), affinity="healthcare workers"),
    ProgramSpec("LGBTQ+ community circles", "LGBTQ+", (*CORE, "ucla3"), affinity="LGBTQ+"),
    ProgramSpec("Chronic pain and depression program", "Chronic pain", (*CORE, "ucla3")),
)
SLOTS = [  # (weekday, name, local start hour, minute)
    (1, "Tuesday evening", 18, 30),
    (3, "Thursday evening", 18, 30),
    (0, "Monday evening", 19, 0),
    (5, "Saturday morning", 10, 0),
    (2, "Wednesday evening", 18, 0),
    (6, "Sunday afternoon", 14, 0),
    (4, "Friday afternoon", 15, 0),
]
VENUES = ["Hood River lodge", "Mount Hood retreat center", "Columbia Gorge farm", "Willamette valley house"]
LOCATIONS = ["Community room, SE Division St", "Online (video call)", "Juniper room", "Library annex, NE Alberta"]


@dataclass(slots=True)
class Person:
    index: int
    cohort: int
    kind: str  # A P W X E Q (see the module docstring)
    step: int  # applicants (Q): 0 registered, 1 consented, 2 screened for review, 3 screened eligible
    display_name: str
    legal_name: str
    email: str
    phone: str
    date_of_birth: datetime.date
    language: str
    pronouns: str
    background: str
    accessibility: str
    registered: datetime.datetime
    in_circle: bool = False
    propensity: float = 0.6
    severity: float = 0.5  # at baseline, 0 well .. 1 worst
    responder: bool = True
    withdrawn_on: datetime.date | None = None
    pk: int = 0


@dataclass(slots=True)
class Cohort:
    index: int
    program: int  # index into the plan's programs
    starts_on: datetime.date  # the retreat: three days; the administration session on day two
    slot: tuple[int, str, int, int]
    language: str
    shift: float  # the circle's shared effect on severity once built up
    members: list[int] = field(default_factory=list)  # person indexes

    @property
    def administration(self) -> datetime.date:
        return self.starts_on + datetime.timedelta(days=1)

    @property
    def ends_on(self) -> datetime.date:
        return self.starts_on + datetime.timedelta(days=2)

    def first_meeting(self) -> datetime.date:
        day = self.ends_on + datetime.timedelta(days=7)
        return day + datetime.timedelta(days=(self.slot[0] - day.weekday()) % 7)

    def meetings_before(self, day: datetime.date) -> int:
        """How many of the circle's fortnightly meetings took place before ``day``."""
        first = self.first_meeting()
        if day <= first:
            return 0
        return min(MEETINGS, (day - first).days // 14 + 1)


@dataclass
class Plan:
    today: datetime.date
    programs: list[ProgramSpec]
    cohorts: list[Cohort]
    persons: list[Person]
    sample_person: int
    sample_cohort: int

    def gain_factor(self, person: Person, on: datetime.date) -> float:
        """How much of the typical improvement ``person`` keeps on ``on``: more with circle
        engagement once the meetings add up, less in no circle (the demo's model)."""
        cohort = self.cohorts[person.cohort]
        if person.in_circle:
            build = min(1.0, cohort.meetings_before(on) / 6)
            full = 0.55 + 0.7 * person.propensity
        else:
            build = max(0.0, min(1.0, (on - cohort.administration).days / 90))
            full = 0.6
        return 1 + (full - 1) * build

    def circle_shift(self, person: Person, on: datetime.date) -> float:
        if not person.in_circle:
            return 0.0
        cohort = self.cohorts[person.cohort]
        return cohort.shift * min(1.0, cohort.meetings_before(on) / 6)


def counts_for(participants: int) -> tuple[int, int]:
    """(programs, cohorts) for ``participants`` people: a program per 12,500 (at most eight) and
    a cohort (retreat and circle) per 100, at least one of each."""
    programs = max(1, min(len(PROGRAMS), math.ceil(participants / PER_PROGRAM)))
    cohorts = max(1, round(participants / PER_CIRCLE))
    return programs, cohorts


def _cohort_dates(n: int, today: datetime.date) -> tuple[list[datetime.date], int]:
    """Retreat start dates spread evenly over the last two years and the next two weeks, the one
    nearest a month ago moved to exactly a month ago: the sample cohort (its month-1
    questionnaires are open today and its circle has begun to meet). Returns (dates, sample)."""
    span = HISTORY_DAYS + AHEAD_DAYS
    dates = [today - datetime.timedelta(days=HISTORY_DAYS - round(span * (c + 0.5) / n)) for c in range(n)]
    sample_day = today - datetime.timedelta(days=SAMPLE_DAYS_AGO)
    sample = min(range(n), key=lambda c: abs((dates[c] - sample_day).days))
    dates[sample] = sample_day
    return dates, sample


def ascii_name(text: str) -> str:
    """A name folded to ASCII letters and digits, for fictional email addresses."""
    folded = normalize_term(text).replace("đ", "d")
    return "".join(c for c in folded if c.isascii() and c.isalnum())


def _identity(rng: random.Random, n: int, spanish: bool, veteran: bool) -> dict:
    community = "latinx" if spanish and rng.random() < 0.85 else rng.choice(list(people.FIRST_NAMES))
    first, last = rng.choice(people.FIRST_NAMES[community]), rng.choice(people.SURNAMES[community])
    language = "es" if spanish and rng.random() < 0.8 else rng.choice(people.LANGUAGES.get(community, ["en"]))
    backgrounds = people.VETERAN_BACKGROUNDS if veteran else people.BACKGROUNDS[community]
    return {
        "display_name": f"{first} {last}",
        "legal_name": f"{first} {rng.choice('ABCDEFGHJKLMNPRSTW')}. {last}" if rng.random() < 0.4 else "",
        "email": f"{ascii_name(first)}.{ascii_name(last)}{n}@example.{rng.choice(['net', 'org', 'com'])}",
        "phone": f"+1 {rng.choice(people.AREA_CODES['cascadia'])} 555 01{rng.randint(0, 99):02d}",
        "language": language,
        "pronouns": rng.choice(people.PRONOUNS),
        "background": rng.choice(backgrounds) if rng.random() < 0.85 else "",
        "accessibility": rng.choice(people.ACCESSIBILITY),
    }


def _kind(rng: random.Random, upcoming: bool) -> tuple[str, int]:
    u = rng.random()
    if upcoming:
        return ("Q", rng.randrange(4)) if u < 0.15 else ("E", 0)
    if u < 0.005:
        return "X", 0
    if u < 0.03:
        return "W", 0
    return ("P", 0) if u < 0.04 else ("A", 0)


def _person(rng: random.Random, n: int, cohort: Cohort, spec: ProgramSpec, today: datetime.date) -> Person:
    identity = _identity(rng, n, spec.language == "es", spec.affinity == "veterans")
    kind, step = _kind(rng, cohort.administration >= today)
    registered = datetime.datetime.combine(
        cohort.starts_on - datetime.timedelta(days=rng.randint(15, 75)),
        datetime.time(rng.randint(8, 21), rng.randint(0, 59), rng.randint(0, 59)),
        tzinfo=datetime.UTC,
    )
    person = Person(
        index=n,
        cohort=cohort.index,
        kind=kind,
        step=step,
        date_of_birth=today - datetime.timedelta(days=rng.randint(21 * 365 + 10, 74 * 365)),
        registered=registered,
        propensity=rng.betavariate(*PROPENSITY),
        severity=rng.uniform(0.35, 0.8),
        responder=rng.random() < 0.78,
        **identity,
    )
    person.in_circle = kind in "APE" and rng.random() >= NO_CIRCLE
    if kind == "W":
        person.withdrawn_on = cohort.administration + datetime.timedelta(days=rng.randint(2, 240))
    return person


def make_plan(participants: int, rng: random.Random, today: datetime.date) -> Plan:
    n_programs, n_cohorts = counts_for(participants)
    programs = list(PROGRAMS[:n_programs])
    dates, sample_cohort = _cohort_dates(n_cohorts, today)
    cohorts = []
    for c, day in enumerate(dates):
        spec_index = c % n_programs
        language = "es" if programs[spec_index].language == "es" else "en"
        cohorts.append(Cohort(c, spec_index, day, rng.choice(SLOTS), language, rng.gauss(0, CIRCLE_SHIFT_SD)))
    persons = []
    for n in range(participants):
        cohort = cohorts[n * n_cohorts // participants]
        persons.append(_person(rng, n, cohort, programs[cohort.program], today))
    sample = next(p for p in persons if p.cohort == sample_cohort)
    sample.kind = "A"
    sample.step, sample.in_circle, sample.withdrawn_on = 0, True, None
    for person in persons:
        if person.in_circle:
            cohorts[person.cohort].members.append(person.index)
    return Plan(today, programs, cohorts, persons, sample.index, sample_cohort)
