from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from hirondelle.archive.records import Media, MediaKind, Mention, Post
from hirondelle.migration.models.migration import Migration


class ImportedPost(models.Model):
    """One of the person's own posts, kept as the archive reader gave it, for republishing.

    Ids are strings as in the archive records; `to_record()` gives back the
    reader's `Post` so the republishing code needs to know one type only.
    """

    migration = models.ForeignKey(
        Migration,
        on_delete=models.CASCADE,
        related_name="posts",
        verbose_name=_("migration"),
        db_index=False,  # post_unique leads with it
    )
    post_id = models.CharField(_("X post id"), max_length=24)
    created_at = models.DateTimeField(_("posted at"))
    text = models.TextField(_("text"), blank=True)
    lang = models.CharField(_("language"), max_length=16, blank=True)
    source = models.CharField(_("client"), max_length=200, blank=True)
    is_retweet = models.BooleanField(_("repost"), default=False)
    retweeted_screen_name = models.CharField(max_length=50, blank=True)
    reply_to_post_id = models.CharField(max_length=24, blank=True)
    reply_to_user_id = models.CharField(max_length=24, blank=True)
    reply_to_screen_name = models.CharField(max_length=50, blank=True)
    is_self_reply = models.BooleanField(default=False)
    thread_root_id = models.CharField(max_length=24, blank=True)
    quoted_post_id = models.CharField(max_length=24, blank=True)
    quoted_screen_name = models.CharField(max_length=50, blank=True)
    urls = models.JSONField(default=list, blank=True)
    mentions = models.JSONField(default=list, blank=True, help_text="[[screen_name, user_id]]")
    hashtags = models.JSONField(default=list, blank=True)
    media = models.JSONField(
        default=list, blank=True, help_text="[{kind, url, path, source_post_id}]"
    )
    possibly_sensitive = models.BooleanField(default=False)
    is_long = models.BooleanField(default=False)
    is_community = models.BooleanField(default=False)
    edit_ids = models.JSONField(default=list, blank=True)
    generation = models.PositiveIntegerField(_("last seen in import"))
    gone_at = models.DateTimeField(_("gone"), null=True, blank=True)

    class Meta:
        verbose_name = _("imported post")
        verbose_name_plural = _("imported posts")
        constraints = [
            models.UniqueConstraint(fields=["migration", "post_id"], name="post_unique"),
        ]
        indexes = [models.Index(fields=["migration", "created_at"], name="post_chrono")]

    def __str__(self) -> str:
        return f"post {self.post_id}"

    @classmethod
    def fields_from_record(cls, post: Post) -> dict:
        """Column values for an archive Post (the importer's only mapping)."""
        return {
            "post_id": post.id,
            "created_at": post.created_at,
            "text": post.text,
            "lang": post.lang or "",
            "source": post.source or "",
            "is_retweet": post.is_retweet,
            "retweeted_screen_name": post.retweeted_screen_name or "",
            "reply_to_post_id": post.reply_to_post_id or "",
            "reply_to_user_id": post.reply_to_user_id or "",
            "reply_to_screen_name": post.reply_to_screen_name or "",
            "is_self_reply": post.is_self_reply,
            "thread_root_id": post.thread_root_id or "",
            "quoted_post_id": post.quoted_post_id or "",
            "quoted_screen_name": post.quoted_screen_name or "",
            "urls": list(post.urls),
            "mentions": [[m.screen_name, m.user_id] for m in post.mentions],
            "hashtags": list(post.hashtags),
            "media": [
                {
                    "kind": str(m.kind),
                    "url": m.url,
                    "path": m.path,
                    "source_post_id": m.source_post_id,
                }
                for m in post.media
            ],
            "possibly_sensitive": post.possibly_sensitive,
            "is_long": post.is_long,
            "is_community": post.is_community,
            "edit_ids": list(post.edit_ids),
        }

    def to_record(self) -> Post:
        """The archive reader's Post, as it was imported."""
        return Post(
            id=self.post_id,
            created_at=self.created_at,
            text=self.text,
            lang=self.lang,
            source=self.source,
            is_retweet=self.is_retweet,
            retweeted_screen_name=self.retweeted_screen_name or None,
            reply_to_post_id=self.reply_to_post_id or None,
            reply_to_user_id=self.reply_to_user_id or None,
            reply_to_screen_name=self.reply_to_screen_name or None,
            is_self_reply=self.is_self_reply,
            thread_root_id=self.thread_root_id or None,
            quoted_post_id=self.quoted_post_id or None,
            quoted_screen_name=self.quoted_screen_name or None,
            urls=tuple(self.urls),
            mentions=tuple(Mention(screen_name=s, user_id=u) for s, u in self.mentions),
            hashtags=tuple(self.hashtags),
            media=tuple(
                Media(
                    kind=MediaKind(m["kind"]),
                    url=m["url"],
                    path=m["path"],
                    source_post_id=m["source_post_id"],
                )
                for m in self.media
            ),
            possibly_sensitive=self.possibly_sensitive,
            is_long=self.is_long,
            is_community=self.is_community,
            edit_ids=tuple(self.edit_ids),
        )
