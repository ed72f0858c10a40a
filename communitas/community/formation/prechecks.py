"""Cheap necessary conditions checked before the solver runs, each failure with its own message."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from communitas.community.formation.index import MEDICAL, Need, _Ix, _need_text, _qualifies, _quote
from communitas.community.formation.results import Conflict


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def _prechecks(ix: _Ix) -> list[Conflict]:
    """Cheap necessary conditions, each with its own message; the solver is not run if one fails."""
    checks = (_check_needs, _check_sizes, _check_affinity, _check_facilitator_supply, _check_locks)
    return [conflict for check in checks for conflict in check(ix)]


def _check_needs(ix: _Ix) -> Iterator[Conflict]:
    if ix.rules.allow_unassigned:
        return  # whoever cannot be served is left unplaced (and reported)
    found = False
    for need, holders in ix.holders_of.items():
        qualified, ids = ix.qualified[need], tuple(ix.A[a].id for a in holders)
        if need == MEDICAL and not qualified:
            found = True
            yield Conflict(
                "medical",
                f"{_plural(len(ids), 'applicant')} {'needs' if len(ids) == 1 else 'need'} medical oversight "
                "but no facilitator is medical",
                ids,
            )
        elif not qualified:
            found = True
            langs = need[1:]
            only, tail = ("only ", "speaks it") if len(langs) == 1 else ("", "speaks any of them")
            for a in ids:
                yield Conflict("language", f"{a} speaks {only}{_quote(langs)} and no facilitator {tail}", (a,))
        elif conflict := _check_capacity(ix, need, ids, qualified):
            found = True
            yield conflict
    if not found and all(hi <= 1 for _, hi in ix.fbounds):
        yield from _check_joint_needs(ix)


def _check_capacity(ix: _Ix, need: Need, ids: tuple[str, ...], qualified: list[int]) -> Conflict | None:
    circles = min(len(ix.C), sum(ix.F[f].max_circles for f in qualified))
    room = sum(sorted((c.max_size for c in ix.C), reverse=True)[:circles])
    if len(ids) <= room:
        return None
    who = ", ".join(ix.F[f].id for f in qualified)
    return Conflict(
        need[0],
        f"{len(ids)} applicants need {_need_text(need)}; those who qualify ({who}) can lead at most "
        f"{_plural(circles, 'circle')}, with room for {room}",
        ids,
    )


def _check_joint_needs(ix: _Ix) -> Iterator[Conflict]:
    """With one facilitator per circle, someone who needs Spanish and medical care needs both in one person."""
    for a, needs in enumerate(ix.needs):
        if len(needs) > 1 and not any(all(_qualifies(f, n) for n in needs) for f in ix.F):
            text = " and ".join(_need_text(n) for n in needs)
            yield Conflict(
                "medical",
                f"{ix.A[a].id} needs {text} in one person (circles have one facilitator) and nobody is both",
                (ix.A[a].id,),
            )


def _check_sizes(ix: _Ix) -> Iterator[Conflict]:
    n, circles = len(ix.A), tuple(c.id for c in ix.C)
    total_min, total_max = sum(c.min_size for c in ix.C), sum(c.max_size for c in ix.C)
    if not ix.rules.allow_empty_circles and total_min > n:
        yield Conflict("min_size", f"total min_size {total_min} exceeds {_plural(n, 'applicant')}", circles)
    if not ix.rules.allow_unassigned and total_max < n:
        yield Conflict(
            "max_size", f"total max_size {total_max} is less than the {n} applicants, who must all be placed", circles
        )
    kinds = _quote(sorted({c.affinity or "" for c in ix.C}))
    for a in range(n):
        if not ix.affine[a] and not ix.rules.allow_unassigned:
            aid = ix.A[a].id
            yield Conflict(
                "affinity",
                f"{aid} fits no circle: every circle is an affinity circle ({kinds}) and {aid} lists none",
                (aid,),
            )


def _check_affinity(ix: _Ix) -> Iterator[Conflict]:
    by_affinity: dict[str, list[int]] = defaultdict(list)
    for c, circle in enumerate(ix.C):
        if circle.affinity is not None and not ix.rules.allow_empty_circles:
            by_affinity[circle.affinity].append(c)
    for affinity, circles in by_affinity.items():
        eligible = sum(1 for a in range(len(ix.A)) if any(c in ix.allowed[a] for c in circles))
        short = [c for c in circles if ix.C[c].min_size > eligible]
        for c in short:
            yield Conflict(
                "affinity",
                f"circle {ix.C[c].id} requires affinity {affinity!r} but only {_plural(eligible, 'applicant')} "
                f"{'lists' if eligible == 1 else 'list'} it and min_size is {ix.C[c].min_size}",
                (ix.C[c].id,),
            )
        need, ids = sum(ix.C[c].min_size for c in circles), tuple(ix.C[c].id for c in circles)
        if not short and need > eligible:
            yield Conflict(
                "affinity",
                f"circles {', '.join(ids)} require affinity {affinity!r}: together min_size {need} but only "
                f"{_plural(eligible, 'applicant')} {'lists' if eligible == 1 else 'list'} it",
                ids,
            )


def _check_facilitator_supply(ix: _Ix) -> Iterator[Conflict]:
    need, supply = sum(lo for lo, _ in ix.fbounds), sum(f.max_circles for f in ix.F)
    if not ix.rules.allow_empty_circles and need > supply:
        yield Conflict(
            "facilitators",
            f"{_plural(len(ix.C), 'circle')} need {_plural(need, 'facilitator')} but "
            f"{_plural(len(ix.F), 'facilitator')} can lead at most {_plural(supply, 'circle')}",
        )
    for c, (lo, _) in enumerate(ix.fbounds):
        if lo > len(ix.F):
            yield Conflict(
                "facilitators",
                f"circle {ix.C[c].id} needs {lo} facilitators but there are only {len(ix.F)}",
                (ix.C[c].id,),
            )


def _check_locks(ix: _Ix) -> Iterator[Conflict]:
    members, leads = defaultdict(list), defaultdict(list)
    for a, c in ix.lock.items():
        members[c].append(a)
        aid, circle = ix.A[a].id, ix.C[c]
        if c not in ix.affine[a]:
            text = (
                f"{aid} is locked to {circle.id}, an affinity circle for {circle.affinity!r} that {aid} does not list"
            )
            yield Conflict("lock", text, (aid, circle.id))
    for a, b in ix.never:
        if a in ix.lock and ix.lock[a] == ix.lock.get(b):
            ids = (ix.A[a].id, ix.A[b].id, ix.C[ix.lock[a]].id)
            yield Conflict("lock", "locks put {} and {} (never together) in {}".format(*ids), ids)
    for f, cs in ix.flocks.items():
        if len(cs) > ix.F[f].max_circles:
            text = f"{ix.F[f].id} is locked to {len(cs)} circles but leads at most {ix.F[f].max_circles}"
            yield Conflict("lock", text, (ix.F[f].id,))
        for c in cs:
            leads[c].append(f)
    for c, circle in enumerate(ix.C):
        if len(members[c]) > circle.max_size:
            text = f"{len(members[c])} applicants are locked to {circle.id} but its max_size is {circle.max_size}"
            yield Conflict("lock", text, (circle.id,))
        if len(leads[c]) > ix.fbounds[c][1]:
            text = f"{len(leads[c])} facilitators are locked to {circle.id} but it takes at most {ix.fbounds[c][1]}"
            yield Conflict("lock", text, (circle.id,))
        elif leads[c] and len(leads[c]) == ix.fbounds[c][1]:
            yield from _check_locked_needs(ix, c, members[c], leads[c])


def _check_locked_needs(ix: _Ix, c: int, members: list[int], leads: list[int]) -> Iterator[Conflict]:
    """A locked applicant in a circle whose facilitators are all locked, none of them the one they need."""
    who = ", ".join(ix.F[f].id for f in leads)
    for a in members:
        for need in ix.needs[a]:
            if not any(_qualifies(ix.F[f], need) for f in leads):
                text = f"{ix.A[a].id} is locked to {ix.C[c].id}, whose locked facilitators ({who}) are not "
                text += _need_text(need)
                yield Conflict("lock", text, (ix.A[a].id, ix.C[c].id))
