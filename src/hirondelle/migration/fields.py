"""A model field that keeps credentials encrypted at rest.

Tokens, app passwords and session strings are stored as Fernet tokens
(AES-128-CBC + HMAC-SHA256) under keys from ``settings.TOKEN_KEYS``, which
live outside the database (the data directory or the environment): a leaked
database backup leaks no usable token. Several keys may be given, newest
first, to rotate them.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(k.encode()) for k in keys])


def encrypt(value: Any) -> str:
    return _fernet(tuple(settings.TOKEN_KEYS)).encrypt(json.dumps(value).encode()).decode()


def decrypt(token: str) -> Any:
    try:
        return json.loads(_fernet(tuple(settings.TOKEN_KEYS)).decrypt(token.encode()))
    except InvalidToken as e:
        raise ImproperlyConfigured(
            "A stored credential cannot be decrypted with the configured token keys. "
            "Was HIRONDELLE_TOKEN_KEYS changed, or the data directory's token_key lost? "
            "Sign in to the account again."
        ) from e


class EncryptedJSONField(models.TextField):
    """JSON stored encrypted; never shown in the admin, never searchable."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> Any:
        return None if value is None else decrypt(value)

    def get_prep_value(self, value: Any) -> str | None:
        return None if value is None else encrypt(value)

    def to_python(self, value: Any) -> Any:
        return value
