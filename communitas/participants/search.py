"""Blind-index terms for participant search (pure: text in, tokens out)."""

import re

from communitas.core.crypto import blind_token, normalize_term

MIN_PREFIX, MAX_PREFIX = 2, 12


def scope(organization_id: int) -> str:
    return f"participant:{organization_id}"


def index_terms(*, names: list[str], email: str, phone: str) -> set[str]:
    """Every searchable term: word prefixes of names and email local part, the whole email,
    the phone digits and their last four and seven."""
    terms: set[str] = set()
    words = [w for n in names for w in re.split(r"[\s,.'\u2019\-]+", normalize_term(n)) if w]
    if email:
        local = normalize_term(email).split("@", 1)[0]
        words += [w for w in re.split(r"[._+\-]+", local) if w]
        terms.add(normalize_term(email))
    for word in words:
        terms.update(word[:i] for i in range(MIN_PREFIX, min(len(word), MAX_PREFIX) + 1))
    digits = re.sub(r"\D", "", phone or "")
    if len(digits) >= 4:
        terms.update({digits, digits[-4:], digits[-7:]})
    return terms


def query_terms(query: str) -> list[str]:
    """Terms of a search box query, each cut to the longest indexed prefix."""
    out = []
    for raw in query.split()[:6]:
        term = normalize_term(raw)
        if "@" in term:
            out.append(term)
        elif re.fullmatch(r"[\d+().\-]+", term) and len(re.sub(r"\D", "", term)) >= 4:
            out.append(re.sub(r"\D", "", term))
        elif len(term) >= MIN_PREFIX:
            out.append(term[:MAX_PREFIX])
    return out


def tokens(organization_id: int, terms: set[str] | list[str]) -> list[str]:
    return [blind_token(scope(organization_id), t) for t in terms]
