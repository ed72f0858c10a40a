"""Writing and verifying the hash-chained audit trail."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from communitas.core.models import AuditChainHead, AuditEntry

GENESIS = "0" * 64


def chain_for(organization_id: int | None) -> str:
    return f"org:{organization_id}" if organization_id is not None else "system"


def entry_digest(entry: AuditEntry) -> str:
    payload = {
        "chain": entry.chain,
        "seq": entry.seq,
        "created_at": entry.created_at.isoformat(timespec="microseconds"),
        "organization_id": entry.organization_id,
        "actor_id": entry.actor_id,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "data": entry.data,
        "prev_hash": entry.prev_hash,
    }
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


@transaction.atomic
def audit_record(
    *,
    action: str,
    actor=None,
    organization_id: int | None = None,
    obj=None,
    data: dict | None = None,
) -> AuditEntry:
    """Append one entry. ``action`` is ``<app>.<entity>.<past_verb>``; ``data`` holds no PII."""
    chain = chain_for(organization_id)
    AuditChainHead.objects.get_or_create(chain=chain)
    head = AuditChainHead.objects.select_for_update().get(chain=chain)
    entry = AuditEntry(
        chain=chain,
        seq=head.seq + 1,
        created_at=timezone.now(),
        organization_id=organization_id,
        actor_id=getattr(actor, "pk", None),
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        data=data or {},
        prev_hash=head.last_hash or GENESIS,
    )
    entry.entry_hash = entry_digest(entry)
    entry.save()
    head.seq, head.last_hash = entry.seq, entry.entry_hash
    head.save(update_fields=["seq", "last_hash"])
    return entry


@dataclass(frozen=True)
class BrokenLink:
    chain: str
    entry_id: int | None
    seq: int
    reason: str

    def __str__(self) -> str:
        where = f"entry id={self.entry_id}" if self.entry_id is not None else "chain head"
        return f"audit chain {self.chain!r} broken at {where} (seq {self.seq}): {self.reason}"


def _verify_chain(head: AuditChainHead) -> BrokenLink | None:
    expected_prev, expected_seq = GENESIS, 1
    entries: Iterator[AuditEntry] = (
        AuditEntry.objects.filter(chain=head.chain).order_by("seq").iterator(chunk_size=2000)
    )
    for entry in entries:
        if entry.seq != expected_seq:
            return BrokenLink(
                head.chain, entry.id, entry.seq, f"expected seq {expected_seq} (entry deleted or inserted)"
            )
        if entry.prev_hash != expected_prev:
            return BrokenLink(head.chain, entry.id, entry.seq, "prev_hash does not match the previous entry")
        if entry_digest(entry) != entry.entry_hash:
            return BrokenLink(head.chain, entry.id, entry.seq, "content does not match its hash (row altered)")
        expected_prev, expected_seq = entry.entry_hash, expected_seq + 1
    if head.seq != expected_seq - 1 or (head.seq and head.last_hash != expected_prev):
        return BrokenLink(head.chain, None, head.seq, "newest entries missing (chain head ahead of entries)")
    return None


def audit_verify() -> tuple[int, BrokenLink | None]:
    """Check every chain; return (entries checked, first broken link or None)."""
    checked = 0
    known = set()
    for head in AuditChainHead.objects.order_by("chain"):
        known.add(head.chain)
        broken = _verify_chain(head)
        if broken:
            return checked, broken
        checked += head.seq
    orphan = AuditEntry.objects.exclude(chain__in=known).order_by("id").first()
    if orphan is not None:
        return checked, BrokenLink(orphan.chain, orphan.id, orphan.seq, "entry belongs to no known chain")
    return checked, None
