"""Encrypted model fields. Plaintext never reaches the database; lookups other than
``isnull`` are refused because a randomized ciphertext cannot be compared."""

from __future__ import annotations

import datetime

from django.core.exceptions import FieldError, ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from communitas.core.crypto import PREFIX, keyring


class EncryptedMixin:
    """Encrypts on the way to the database and decrypts on the way back."""

    name: str

    empty_values_to_store = ("", None)

    def _context(self) -> str:
        return f"{self.model._meta.label_lower}.{self.name}"  # type: ignore[attr-defined]

    def get_internal_type(self) -> str:
        return "TextField"

    def db_type(self, connection):
        return models.TextField().db_type(connection)

    def to_plain(self, value) -> str:
        return str(value)

    def from_plain(self, value: str):
        return value

    def get_db_prep_value(self, value, connection, prepared=False):
        if value is None:
            return None
        if value == "":
            return ""
        return keyring().encrypt(self.to_plain(value), self._context())

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        if not value.startswith(PREFIX + "$"):
            raise ValueError(f"unencrypted value found in {self._context()}")
        return self.from_plain(keyring().decrypt(value, self._context()))

    def get_lookup(self, lookup_name):
        if lookup_name != "isnull":
            raise FieldError(f"encrypted field {self.name} supports only the isnull lookup")
        return super().get_lookup(lookup_name)  # type: ignore[misc]

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()  # type: ignore[misc]
        return name, path, args, kwargs


class EncryptedCharField(EncryptedMixin, models.CharField):
    """A CharField whose ``max_length`` limits the plaintext; the column is TEXT."""


class EncryptedTextField(EncryptedMixin, models.TextField):
    pass


class EncryptedEmailField(EncryptedMixin, models.EmailField):
    pass


class EncryptedDateField(EncryptedMixin, models.DateField):
    def to_plain(self, value) -> str:
        if isinstance(value, str):
            value = self.to_python(value)
        return value.isoformat()

    def from_plain(self, value: str):
        return datetime.date.fromisoformat(value)

    def to_python(self, value):
        if isinstance(value, str) and value:
            try:
                return datetime.date.fromisoformat(value)
            except ValueError as exc:
                raise ValidationError(_("Enter a valid date (YYYY-MM-DD).")) from exc
        return super().to_python(value)

    def get_db_prep_value(self, value, connection, prepared=False):
        if value in (None, ""):
            return None
        return keyring().encrypt(self.to_plain(value), self._context())


class EncryptedJSONField(EncryptedMixin, models.JSONField):
    """A JSON value (dict or list) stored encrypted in a text column; it cannot be queried
    inside the database (no lookups, no key transforms)."""

    def get_transform(self, name):
        raise FieldError(f"encrypted field {self.name} cannot be queried by key")

    def to_plain(self, value) -> str:
        import json

        return json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=True)

    def from_plain(self, value: str):
        import json

        return json.loads(value)

    def get_db_prep_value(self, value, connection, prepared=False):
        if value is None:
            return None
        return keyring().encrypt(self.to_plain(value), self._context())

    def value_to_string(self, obj):
        return self.to_plain(self.value_from_object(obj))
