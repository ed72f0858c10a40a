"""Peer-support pod proposals: a pure, deterministic function over plain data (no ORM).

``propose(people, never_together)`` splits a retreat's participants into pods of 3-5 and buddy
pairs. Hard rules, never broken: two people recorded as never-together are never in one group;
everyone in a group shares a language; their time zones are at most ``MAX_TZ_GAP`` minutes apart;
and, among those who named times that suit them, the group has a time in common. Soft
preferences raise a candidate's score: a shared town or area (they can meet in person), a
close time zone, more shared times, and "prefer other veterans".

How it works (greedy, explainable): pod sizes keep pods near 4 and never above 5
(``pod_sizes``); each pod starts with the remaining person who has the fewest compatible others
(the hardest to place) and takes, one at a time, the compatible person who adds the most score
(ties: lower id); a seed that cannot reach 3 is set aside. Then two people swap pods while a swap
raises the total score without breaking a rule. People left over join a pod with room, else
(if they said "either") a buddy pair; people who asked for a buddy are paired the same way. Everyone not
placed is reported with the reasons. Every group carries the reasons it was formed
(``explain``): codes with plain values, no names, for the page to translate.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

MIN_POD, TARGET_POD, MAX_POD = 3, 4, 5
MAX_TZ_GAP = 180  # minutes; a call across more than three hours is hard to keep up
SIZES = ("either", "pod", "pair")


@dataclass(frozen=True)
class Person:
    id: int
    languages: frozenset[str] = frozenset()
    utc_offset: int | None = None  # minutes east of UTC on the reference date
    time_zone: str = ""
    area: str = ""  # compared case-insensitively; never reported
    availability: frozenset[str] = frozenset()  # empty: any time
    size: str = "either"  # either | pod | pair
    veteran: bool = False
    prefer_veterans: bool = False


@dataclass(frozen=True)
class Reason:
    code: str
    value: str = ""


@dataclass(frozen=True)
class Group:
    kind: str  # pod | pair
    members: tuple[int, ...]
    reasons: tuple[Reason, ...]


@dataclass(frozen=True)
class Unplaced:
    person: int
    reasons: tuple[Reason, ...]


@dataclass(frozen=True)
class Proposal:
    groups: tuple[Group, ...]
    unplaced: tuple[Unplaced, ...]


def pair_key(a: int, b: int) -> frozenset[int]:
    return frozenset((a, b))


# --- compatibility ------------------------------------------------------------------------------


def conflict(a: Person, b: Person, blocked: Collection[frozenset[int]]) -> str:
    """Why ``a`` and ``b`` may not be together ('' when they may)."""
    if pair_key(a.id, b.id) in blocked:
        return "never_together"
    if a.languages and b.languages and not a.languages & b.languages:
        return "no_shared_language"
    if a.utc_offset is not None and b.utc_offset is not None and abs(a.utc_offset - b.utc_offset) > MAX_TZ_GAP:
        return "time_zones_too_far"
    if a.availability and b.availability and not a.availability & b.availability:
        return "no_shared_time"
    return ""


def _common(sets: Iterable[frozenset[str]]) -> frozenset[str] | None:
    """What every non-empty set shares (None when no one said anything)."""
    given = [s for s in sets if s]
    if not given:
        return None
    out = given[0]
    for s in given[1:]:
        out &= s
    return out


def fits(group: Sequence[Person], candidate: Person, blocked: Collection[frozenset[int]]) -> bool:
    if any(conflict(candidate, m, blocked) for m in group):
        return False
    members = [*group, candidate]
    return (
        _common(m.languages for m in members) != frozenset() and _common(m.availability for m in members) != frozenset()
    )


def score(a: Person, b: Person) -> int:
    points = min(len(a.availability & b.availability), 3)
    if a.area and b.area and a.area.casefold() == b.area.casefold():
        points += 3
    if a.utc_offset is not None and b.utc_offset is not None:
        gap = abs(a.utc_offset - b.utc_offset)
        points += 2 if gap == 0 else 1 if gap <= 60 else 0
    for x, y in ((a, b), (b, a)):
        if x.prefer_veterans:
            points += 3 if y.veteran else -3
    return points


# --- explanations -------------------------------------------------------------------------------


def explain(group: Sequence[Person], blocked: Collection[frozenset[int]] = ()) -> tuple[Reason, ...]:
    """Why these people fit together, and warnings for anything a manual change broke."""
    reasons: list[Reason] = []
    languages = _common(m.languages for m in group)
    if languages:
        reasons.append(Reason("shared_language", ",".join(sorted(languages))))
    elif languages is not None:
        reasons.append(Reason("warning_no_shared_language"))
    offsets = [m.utc_offset for m in group]
    if offsets and all(o is not None for o in offsets):
        known = [o for o in offsets if o is not None]
        zones = {m.time_zone for m in group}
        if len(zones) == 1 and "" not in zones:
            reasons.append(Reason("same_time_zone", zones.pop()))
        elif max(known) - min(known) <= MAX_TZ_GAP:
            reasons.append(Reason("time_zones_within", str((max(known) - min(known)) // 60)))
        else:
            reasons.append(Reason("warning_time_zones_far"))
    times = _common(m.availability for m in group)
    if times:
        reasons.append(Reason("shared_times", ",".join(sorted(times))))
    elif times is not None:
        reasons.append(Reason("warning_no_shared_time"))
    areas = {m.area.casefold() for m in group}
    if len(group) > 1 and len(areas) == 1 and "" not in areas:
        reasons.append(Reason("same_area"))
    if any(m.prefer_veterans for m in group):
        all_veterans = all(m.veteran for m in group)
        reasons.append(Reason("veterans_together" if all_veterans else "warning_veteran_preference_unmet"))
    ids = [m.id for m in group]
    if any(pair_key(a, b) in blocked for i, a in enumerate(ids) for b in ids[i + 1 :]):
        reasons.append(Reason("warning_never_together"))
    return tuple(reasons)


# --- the proposal -------------------------------------------------------------------------------


def pod_sizes(n: int) -> list[int]:
    """Balanced pod sizes for ``n`` people: as many pods as keeps them near 4, none above 5."""
    if n < MIN_POD:
        return []
    k = max(math.ceil(n / MAX_POD), math.floor(n / TARGET_POD + 0.5))
    k = min(k, n // MIN_POD)
    return [n // k + (1 if i < n % k else 0) for i in range(k)]


class _Matcher:
    def __init__(self, people: Sequence[Person], blocked: set[frozenset[int]]):
        self.people = {p.id: p for p in people}
        self.blocked = blocked

    def compatible_count(self, person: Person, pool: Iterable[Person]) -> int:
        return sum(1 for other in pool if other.id != person.id and not conflict(person, other, self.blocked))

    def hardest(self, pool: list[Person]) -> Person:
        return min(pool, key=lambda p: (self.compatible_count(p, pool), p.id))

    def best(self, group: list[Person], pool: Iterable[Person]) -> Person | None:
        taken = {m.id for m in group}
        options = [c for c in pool if c.id not in taken and fits(group, c, self.blocked)]
        if not options:
            return None
        return max(options, key=lambda c: (sum(score(c, m) for m in group), -c.id))

    def grow(self, pool: list[Person], size: int) -> list[Person]:
        group = [self.hardest(pool)]
        while len(group) < size:
            nxt = self.best(group, pool)
            if nxt is None:
                break
            group.append(nxt)
        return group


def _gain(person: Person, group: Iterable[Person]) -> int:
    return sum(score(person, m) for m in group if m.id != person.id)


def _improve(pods: list[list[Person]], blocked: Collection[frozenset[int]], limit: int = 200) -> None:
    """Swap two people between pods while a swap raises the total score and breaks no rule."""
    for _ in range(limit):
        swap = next(
            (
                (i, a, j, b)
                for i in range(len(pods))
                for j in range(i + 1, len(pods))
                for a in pods[i]
                for b in pods[j]
                if _swap_gain(pods[i], a, pods[j], b, blocked) > 0
            ),
            None,
        )
        if swap is None:
            return
        i, a, j, b = swap
        pods[i] = sorted([m for m in pods[i] if m.id != a.id] + [b], key=lambda m: m.id)
        pods[j] = sorted([m for m in pods[j] if m.id != b.id] + [a], key=lambda m: m.id)


def _swap_gain(first: list[Person], a: Person, second: list[Person], b: Person, blocked) -> int:
    rest_first = [m for m in first if m.id != a.id]
    rest_second = [m for m in second if m.id != b.id]
    if not (fits(rest_first, b, blocked) and fits(rest_second, a, blocked)):
        return 0
    return _gain(b, rest_first) + _gain(a, rest_second) - _gain(a, rest_first) - _gain(b, rest_second)


def _form_pods(matcher: _Matcher, pool: list[Person]) -> tuple[list[list[Person]], list[Person]]:
    """Pods from ``pool``; returns the pods and the people left over. A seed that cannot grow
    to a pod is set aside and the next-hardest person seeds instead."""
    pods: list[list[Person]] = []
    leftovers = [p for p in pool if matcher.compatible_count(p, pool) == 0]  # nobody fits them
    pool = [p for p in pool if p not in leftovers]
    while len(pool) >= MIN_POD:
        group = matcher.grow(pool, pod_sizes(len(pool))[0])
        if len(group) >= MIN_POD:
            pods.append(group)
            pool = [p for p in pool if p not in group]
        else:
            leftovers.append(group[0])
            pool = [p for p in pool if p.id != group[0].id]
    _improve(pods, matcher.blocked)
    still: list[Person] = []
    for person in sorted(leftovers + pool, key=lambda p: p.id):
        roomy = [pod for pod in pods if len(pod) < MAX_POD and fits(pod, person, matcher.blocked)]
        if roomy:  # the best-scoring pod; max keeps the first of equals
            max(roomy, key=lambda pod: _gain(person, pod)).append(person)
        else:
            still.append(person)
    return pods, still


def _form_pairs(matcher: _Matcher, pool: list[Person]) -> tuple[list[list[Person]], list[Person]]:
    pairs: list[list[Person]] = []
    alone: list[Person] = []
    pool = sorted(pool, key=lambda p: p.id)
    while pool:
        seed = matcher.hardest(pool)
        partner = matcher.best([seed], pool)
        if partner is None:
            alone.append(seed)
            pool = [p for p in pool if p.id != seed.id]
        else:
            pairs.append([seed, partner])
            pool = [p for p in pool if p.id not in (seed.id, partner.id)]
    return pairs, alone


def _why_unplaced(person: Person, everyone: Sequence[Person], matcher: _Matcher, pods: int) -> tuple[Reason, ...]:
    """Everyone else conflicts with them (each reason with how many people), or the groups
    that would take them were full or did not fit as a whole."""
    others = [o for o in everyone if o.id != person.id]
    if not others:
        return (Reason("too_few_people"),)
    conflicts = [conflict(person, o, matcher.blocked) for o in others]
    if all(conflicts):
        return tuple(Reason(code, str(conflicts.count(code))) for code in sorted(set(conflicts)))
    if person.size != "pod":
        return (Reason("no_buddy_left"),)
    return (Reason("no_pod_with_room" if pods else "too_few_for_a_pod"),)


def propose(people: Iterable[Person], never_together: Iterable[Collection[int]] = ()) -> Proposal:
    """Pods and buddy pairs for ``people`` (see the module docstring). Deterministic: the same
    input, in any order, gives the same proposal."""
    everyone = sorted(people, key=lambda p: p.id)
    if len({p.id for p in everyone}) != len(everyone):
        raise ValueError("each person appears once")
    if any(p.size not in SIZES for p in everyone):
        raise ValueError(f"size is one of {', '.join(SIZES)}")
    blocked = {frozenset(pair) for pair in never_together if len(frozenset(pair)) == 2}
    matcher = _Matcher(everyone, blocked)
    pods, left = _form_pods(matcher, [p for p in everyone if p.size != "pair"])
    pairs, alone = _form_pairs(
        matcher, [p for p in everyone if p.size == "pair"] + [p for p in left if p.size == "either"]
    )
    unplaced_people = sorted([p for p in left if p.size == "pod"] + alone, key=lambda p: p.id)
    groups = [
        Group("pod", tuple(sorted(m.id for m in pod)), explain(pod, blocked))
        for pod in sorted(pods, key=lambda g: min(m.id for m in g))
    ] + [
        Group("pair", tuple(sorted(m.id for m in pair)), explain(pair, blocked))
        for pair in sorted(pairs, key=lambda g: min(m.id for m in g))
    ]
    unplaced = [Unplaced(p.id, _why_unplaced(p, everyone, matcher, len(pods))) for p in unplaced_people]
    return Proposal(tuple(groups), tuple(unplaced))
