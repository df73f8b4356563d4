"""Make archive posts ready for a network: pure Python, no Django.

`prepare(post, network, …)` turns one X post into the drafts that republish
it: text with rewritten mentions and located links and hashtags, split into a
thread within the network's limits, Bluesky facets at UTF-8 byte offsets, the
Mastodon date line, media to attach, and references to resolve at publish
time. `plan(posts, filters)` chooses and orders the posts of a run.
"""

from hirondelle.compose.errors import ComposeError, MediaError
from hirondelle.compose.facets import byte_offsets, facets
from hirondelle.compose.limits import (
    BLUESKY,
    MASTODON,
    Limits,
    byte_length,
    fits,
    grapheme_length,
    limits_for,
    mastodon_limits,
    weighted_length,
)
from hirondelle.compose.media import MediaChoice, MediaRef, fit_image, pick_media, upload_for
from hirondelle.compose.plan import (
    Filters,
    date_line,
    format_date,
    keep,
    order,
    plan,
    thread_roots,
)
from hirondelle.compose.prepare import (
    LAST,
    Draft,
    Options,
    PartRef,
    Prepared,
    draft_key,
    prepare,
    prepare_many,
)
from hirondelle.compose.split import Part, split
from hirondelle.compose.text import (
    Composed,
    MentionResolver,
    RichText,
    Span,
    SpanKind,
    compose_text,
    display_url,
    x_profile_url,
)

__all__ = [
    "BLUESKY",
    "LAST",
    "MASTODON",
    "ComposeError",
    "Composed",
    "Draft",
    "Filters",
    "Limits",
    "MediaChoice",
    "MediaError",
    "MediaRef",
    "MentionResolver",
    "Options",
    "Part",
    "PartRef",
    "Prepared",
    "RichText",
    "Span",
    "SpanKind",
    "byte_length",
    "byte_offsets",
    "compose_text",
    "date_line",
    "display_url",
    "draft_key",
    "facets",
    "fit_image",
    "fits",
    "format_date",
    "grapheme_length",
    "keep",
    "limits_for",
    "mastodon_limits",
    "order",
    "pick_media",
    "plan",
    "prepare",
    "prepare_many",
    "split",
    "thread_roots",
    "upload_for",
    "weighted_length",
    "x_profile_url",
]
