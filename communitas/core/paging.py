"""Paging without counting: for long lists whose total would cost a scan of every row (a program's
pending questionnaires at 100,000 participants). A page reads one row more than it shows, to know
whether there is a next one; numbers past the end give an empty last page, never an error."""

from __future__ import annotations

from dataclasses import dataclass

MAX_PAGE = 10_000  # an offset the database can take without a long scan


@dataclass(frozen=True)
class PeekPage:
    object_list: list
    number: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def next_page_number(self) -> int:
        return self.number + 1

    @property
    def previous_page_number(self) -> int:
        return self.number - 1

    def __iter__(self):
        return iter(self.object_list)

    def __len__(self) -> int:
        return len(self.object_list)


def peek_page(items, number, per_page: int) -> PeekPage:
    """Page ``number`` (as given in a query string; anything unusable is page 1) of ``items``."""
    try:
        page = min(max(int(number), 1), MAX_PAGE)
    except (TypeError, ValueError):
        page = 1
    start = (page - 1) * per_page
    rows = list(items[start : start + per_page + 1])
    return PeekPage(rows[:per_page], page, len(rows) > per_page)
