from django.db import models


class BaseModel(models.Model):
    """Every table records when a row was created and last changed."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class OrganizationScopedModel(BaseModel):
    """A row that belongs to one organization (tenant). Every tenant table carries
    ``organization_id`` so a large deployment can shard by organization."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="+")

    class Meta:
        abstract = True


class AuditChainHead(models.Model):
    """The newest link of one audit chain; locked while an entry is appended."""

    chain = models.CharField(max_length=64, unique=True)
    seq = models.PositiveBigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="")

    def __str__(self) -> str:
        return f"{self.chain}@{self.seq}"


class AuditEntry(models.Model):
    """One append-only, hash-chained record of a state change.

    There is one chain per organization (``org:<id>``) and one for events outside any
    organization (``system``). ``entry_hash`` is SHA-256 over the canonical JSON of the
    entry including ``prev_hash``; ``communitas verify-audit`` recomputes every link.
    Actor and organization are plain ids, not foreign keys, so the trail outlives the rows
    it describes. ``data`` never holds PII: callers pass field names, not values.
    """

    chain = models.CharField(max_length=64)
    seq = models.PositiveBigIntegerField()
    created_at = models.DateTimeField()
    organization_id = models.BigIntegerField(null=True, blank=True)
    actor_id = models.BigIntegerField(null=True, blank=True)
    action = models.CharField(max_length=120)
    object_type = models.CharField(max_length=80, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    data = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    entry_hash = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["chain", "seq"], name="audit_entry_unique_chain_seq"),
        ]
        indexes = [
            models.Index(fields=["organization_id", "created_at"], name="audit_org_created_idx"),
            models.Index(fields=["object_type", "object_id"], name="audit_object_idx"),
        ]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.chain}#{self.seq} {self.action}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise RuntimeError("audit entries are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise RuntimeError("audit entries are append-only")
