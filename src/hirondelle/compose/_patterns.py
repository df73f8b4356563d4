"""The regular expressions the text pipeline shares.

One place, so that the composer (which finds links, mentions and hashtags),
the splitter (which never cuts through them) and the length counter (which
weighs them the way Mastodon does) all agree on where an entity starts and
ends. Where Mastodon's own patterns are broader than ours, ours must find a
subset of what Mastodon finds: then our count is never lower than its count.
"""

from __future__ import annotations

import regex

#: One extended grapheme cluster (what a person sees as one character).
GRAPHEME = regex.compile(r"\X")

# Characters that might join their neighbours into one grapheme cluster (or
# that we do not know well enough to say): combining marks, joiners, emoji,
# Hangul, Indic scripts… Text without any (and without CR) has one grapheme
# per code point, which saves the cluster scan on most Latin-script posts.
_MAYBE_JOINING = regex.compile(r"[^\x00-\x0c\x0e-\u02ff\u2010-\u2027\u2030-\u205e\u20a0-\u20c0]")


def one_code_point_per_grapheme(text: str) -> bool:
    return "\r" not in text and (text.isascii() or _MAYBE_JOINING.search(text) is None)


# A link as Mastodon and Bluesky recognise it: an explicit http(s) scheme, a
# host name, a path and a query made of the characters twitter-text (which
# Mastodon uses) accepts. Not after a letter or digit ("foohttps://…" is not a
# link for Mastodon either).
_PATH = r"[A-Za-z0-9\p{Latin}\p{Cyrillic}!*';:=+,.$/%#\[\]\-\u2013_~&|@()]"
_QUERY = r"[A-Za-z0-9!?*'();:&=+$/%#\[\]\-_.,~|@]"
URL = regex.compile(
    r"(?<![\p{L}\p{N}@＠$#＃_])"
    r"https?://"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
    r"(?:[A-Za-z]{2,63}|xn--[A-Za-z0-9-]{1,59})"
    r"(?::[0-9]{1,5})?"
    rf"(?:/{_PATH}*)?"
    rf"(?:\?{_QUERY}*)?",
    regex.IGNORECASE,
)

# What may end a link (twitter-text's path endings, minus "&" which only a
# query may end with: dropping more than Mastodon does only counts longer).
_URL_ENDING = regex.compile(r"[A-Za-z0-9\p{Latin}\p{Cyrillic}=_#/+\-]")

# An X mention: what X itself links. The look-behind is Mastodon's (not after
# "=", "/" or a word character), so that every "@name" Mastodon would take for
# a local mention is rewritten; "@me@host" (already a fediverse address) is not.
X_MENTION = regex.compile(r"(?<![=/\w])[@＠]([A-Za-z0-9_]{1,20})(?![\w@＠]|://)")

# Mastodon's own mention pattern (Account::MENTION_RE): used to count length.
MASTODON_MENTION = regex.compile(
    r"(?<![=/\w])@(([a-z0-9_]+(?:[a-z0-9_.-]+[a-z0-9_]+)?)(?:@[\w]+(?:[.-]+[\w]+)*)?)",
    regex.IGNORECASE,
)

# A hashtag: at least one letter, not inside a word, an URL fragment or "&#…".
HASHTAG = regex.compile(r"(?<![\w&/#＃])[#＃]([\w]*[^\W\d_][\w]*)")

# A trailing link to a post on X (how the archive records a quote).
STATUS_URL = regex.compile(
    r"https?://(?:www\.|mobile\.)?(?:twitter|x)\.com/(\w+|i/web)/status(?:es)?/(\d+)[^\s]*",
    regex.IGNORECASE,
)


def trim_url(url: str) -> str:
    """Drop what follows a link in prose ("…/page)." → "…/page"), as Mastodon does.

    A closing parenthesis stays when it closes one opened inside the link
    (Wikipedia's "…/Swallow_(bird)").
    """
    while url:
        last = url[-1]
        if _URL_ENDING.match(last) or (last == ")" and url.count("(") >= url.count(")")):
            break
        url = url[:-1]
    return url
