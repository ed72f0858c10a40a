"""Blind-index terms for participant search (pure: text in, tokens out)."""

import re

from communitas.core.crypto import blind_token, normalize_term

MIN_PREFIX, MAX_PREFIX = 2, 12
WORD_SEPARATORS = re.compile(r"[\s,.'\u2019\-]+")
PSEUDONYM = re.compile(r"p-[a-z0-9]{6}")


def scope(organization_id: int) -> str:
    return f"participant:{organization_id}"


def index_terms(*, names: list[str], email: str, phone: str) -> set[str]:
    """Every searchable term: word prefixes of names and email local part, the whole email,
    the phone digits and their last 4, 7 and 10 (national number)."""
    terms: set[str] = set()
    words = [w for n in names for w in WORD_SEPARATORS.split(normalize_term(n)) if w]
    if email:
        local = normalize_term(email).split("@", 1)[0]
        words += [w for w in re.split(r"[._+\-]+", local) if w]
        terms.add(normalize_term(email))
    for word in words:
        terms.update(word[:i] for i in range(MIN_PREFIX, min(len(word), MAX_PREFIX) + 1))
    digits = re.sub(r"\D", "", phone or "")
    if len(digits) >= 4:
        terms.update({digits, digits[-4:], digits[-7:], digits[-10:]})
    return terms


def query_terms(query: str) -> list[str]:
    """Terms of a search box query, each cut to the longest indexed prefix."""
    digits = re.sub(r"\D", "", query)
    if re.fullmatch(r"[\d\s+().\-]+", query.strip() or "x") and len(digits) >= 4:
        return [digits]  # a phone number typed with spaces is one term
    out = []
    for raw in query.split()[:6]:
        term = normalize_term(raw)
        if "@" in term:
            out.append(term)
        elif re.fullmatch(r"[\d+().\-]+", term) and len(re.sub(r"\D", "", term)) >= 4:
            out.append(re.sub(r"\D", "", term))
        elif PSEUDONYM.fullmatch(term):
            out.append(term)
        else:
            out += [w[:MAX_PREFIX] for w in WORD_SEPARATORS.split(term) if len(w) >= MIN_PREFIX]
    return out[:8]


def tokens(organization_id: int, terms: set[str] | list[str]) -> list[str]:
    return [blind_token(scope(organization_id), t) for t in terms]
