from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from hirondelle.archive.records import EdgeKind
from hirondelle.migration.models.migration import Migration


class Direction(models.IntegerChoices):
    """The relation between the migration's owner and another X account."""

    FOLLOWING = 1, _("following")
    FOLLOWERS = 2, _("followers")
    BLOCKS = 3, _("blocks")
    MUTES = 4, _("mutes")

    @property
    def key(self) -> str:
        """Stable machine name: following, followers, blocks, mutes."""
        return self.name.lower()

    @classmethod
    def from_kind(cls, kind: EdgeKind) -> Direction:
        return _FROM_KIND[kind]


_FROM_KIND = {
    EdgeKind.FOLLOWING: Direction.FOLLOWING,
    EdgeKind.FOLLOWER: Direction.FOLLOWERS,
    EdgeKind.BLOCK: Direction.BLOCKS,
    EdgeKind.MUTE: Direction.MUTES,
}


class EdgeQuerySet(models.QuerySet):
    def present(self) -> EdgeQuerySet:
        """Edges the latest imported archive still lists."""
        return self.filter(gone_at__isnull=True)


class Edge(models.Model):
    """One X id in a migration's graph: `(migration, direction, x_account_id)`.

    Bare X ids, no foreign key: most accounts in a graph are nowhere in the
    directory. Indexed both ways: the primary key serves "this migration's
    following", `edge_reverse` serves "which migrations contain X id N" as
    one index range. Hundreds of millions of rows on a portal: keep it narrow.
    """

    pk = models.CompositePrimaryKey("migration", "direction", "x_account_id")
    migration = models.ForeignKey(
        Migration,
        on_delete=models.CASCADE,
        related_name="edges",
        verbose_name=_("migration"),
        db_index=False,  # the primary key leads with it: no third index on a huge table
        # No database constraint: on PostgreSQL it is a deferred trigger queued
        # per row, which more than doubles a two-million-row COPY. Only the
        # importer writes edges, holding its migration's row lock; deleting a
        # migration still deletes its edges (Django's CASCADE).
        db_constraint=False,
    )
    direction = models.PositiveSmallIntegerField(_("direction"), choices=Direction)
    x_account_id = models.BigIntegerField(_("X id"))
    generation = models.PositiveIntegerField(
        _("import"), help_text=_("the import (generation) that added it or brought it back")
    )
    gone_at = models.DateTimeField(
        _("gone"), null=True, blank=True, help_text=_("a newer archive no longer lists it")
    )

    objects = EdgeQuerySet.as_manager()

    class Meta:
        verbose_name = _("graph edge")
        verbose_name_plural = _("graph edges")
        indexes = [
            models.Index(
                fields=["x_account_id", "direction", "migration"],
                condition=Q(gone_at__isnull=True),
                name="edge_reverse",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.migration_id} {Direction(self.direction).key} {self.x_account_id}"
