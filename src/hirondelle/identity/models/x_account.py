from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

_U64 = 2**64
_I64 = 2**63


def x_id_to_db(value: int | str) -> int:
    """An X id (unsigned 64-bit) as stored: ids past 2**63 wrap to negative numbers.

    Real X ids (Snowflake) stay below 2**63 and are stored as they are; the
    wrap only keeps the rare larger value exact instead of refusing it.
    Raises ValueError for anything that is not an X id.
    """
    try:
        x = int(str(value).strip())
    except ValueError:
        x = 0
    if not 0 < x < _U64:
        raise ValueError(f"{value!r} is not an X id")
    return x - _U64 if x >= _I64 else x


def x_id_from_db(stored: int) -> int:
    """The X id a stored value stands for (inverse of `x_id_to_db`)."""
    return stored + _U64 if stored < 0 else stored


class XAccount(models.Model):
    """An X account, keyed by its numeric X id (the only stable thing archives give).

    The primary key *is* the X id, so graph edges (which carry bare X ids and
    need no row here) join links directly. Stored through `x_id_to_db`.
    """

    id = models.BigIntegerField(_("X id"), primary_key=True)
    username = models.CharField(_("X username"), max_length=50, blank=True, db_index=True)
    display_name = models.CharField(_("display name"), max_length=100, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("X account")
        verbose_name_plural = _("X accounts")

    def __str__(self) -> str:
        x = x_id_from_db(self.id)
        return f"@{self.username} ({x})" if self.username else str(x)
