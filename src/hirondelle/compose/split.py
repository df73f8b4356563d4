"""Split a text that is too long for one post into a thread.

The text is cut into units: grapheme clusters, except that a link, mention or
hashtag is one unit, so a cut never lands inside a grapheme or an entity. Each
unit has a cost per measure the network applies (weighted characters, and
bytes on Bluesky), so one pass of prefix sums finds how far a part can reach.
Within that reach, the cut goes at the end of a paragraph, else of a
sentence, else at a line break, whichever leaves the part at least half full;
else at the last space, and only when there is none at all between two
graphemes (never just before a link, mention or hashtag).

Numbering (" (2/5)"), a first-part header and a last-part footer (the
Mastodon date line) count against the limit like the text.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from itertools import accumulate
from operator import add

import regex

from hirondelle.compose._patterns import (
    GRAPHEME,
    MASTODON_MENTION,
    URL,
    one_code_point_per_grapheme,
    trim_url,
)
from hirondelle.compose.errors import ComposeError
from hirondelle.compose.limits import Limits, byte_length, grapheme_length, weighted_length
from hirondelle.compose.text import RichText, Span, SpanKind

__all__ = ["Part", "span_weight", "split"]

#: Marks that end a sentence, and what may close it before the space.
_SENTENCE_END = ".!?…。！？‼⁉"
_CLOSERS = "\"'”’»)]"
#: Exactly the characters for which str.isspace() is true.
SPACES = "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_SPACE_RUN = regex.compile(f"[{SPACES}]+")
# Breaks, searched backwards from the furthest point a part can reach.
_PARAGRAPH_RE = regex.compile(f"(?r)[{SPACES}]*\n[{SPACES}]*\n[{SPACES}]*")
_SENTENCE_RE = regex.compile(
    f"(?r)(?<=[{regex.escape(_SENTENCE_END)}][{regex.escape(_CLOSERS)}]{{0,7}})[{SPACES}]+"
    # Chinese and Japanese sentences need no space after their full stop.
    f"|(?<=[。！？])(?=[^{SPACES}])"
)
_LINE_RE = regex.compile(f"(?r)[{SPACES}]*\n[{SPACES}]*")
_WORD_RE = regex.compile(f"(?r)[{SPACES}]+")
_SEPARATOR = "\n\n"


@dataclass(frozen=True, slots=True)
class Part:
    """One post of a thread: its final text, and where its body came from.

    `rich.text[body_start:body_end]` equals the source text's
    `[source_start:source_end]`; around it sit the header (first part),
    the numbering and the footer (last part).
    """

    rich: RichText
    source_start: int
    source_end: int
    body_start: int
    body_end: int

    @property
    def text(self) -> str:
        return self.rich.text

    @property
    def body(self) -> str:
        return self.rich.text[self.body_start : self.body_end]


def span_weight(text: str, span: Span, limits: Limits) -> int:
    """What an entity costs on the network (a link counts 23 on Mastodon)."""
    shown = text[span.start : span.end]
    plain = grapheme_length(shown)
    if span.kind is SpanKind.LINK and limits.url_weight is not None:
        match = URL.match(text, span.start)
        if match is not None:
            # Mastodon counts the link it sees as url_weight, and the rest as written.
            seen = min(span.start + len(trim_url(match.group(0))), span.end)
            return limits.url_weight + grapheme_length(text[seen : span.end])
    if span.kind is SpanKind.MENTION and limits.mention_local_only:
        match = MASTODON_MENTION.match(text, span.start)
        if match is not None and match.end() >= span.end:
            return min(plain, grapheme_length("@" + match.group(2)))
    return plain


def _cost(text: str, limits: Limits) -> tuple[int, int]:
    return weighted_length(text, limits), byte_length(text)


class _Units:
    """The text cut into units, with prefix sums of their costs."""

    def __init__(self, rich: RichText, limits: Limits) -> None:
        text = rich.text
        self.text = text
        # Grapheme clusters and their prefix sums, computed with C-level helpers:
        # this runs on every long post.
        if text.isascii() and "\r" not in text:
            clusters: list[str] = list(text)
            starts = list(range(len(text) + 1))
            byte_prefix = starts
        elif one_code_point_per_grapheme(text):
            clusters = list(text)
            starts = list(range(len(text) + 1))
            byte_prefix = list(accumulate(map(len, map(str.encode, clusters)), initial=0))
        else:
            clusters = GRAPHEME.findall(text)
            starts = list(accumulate(map(len, clusters), initial=0))
            byte_prefix = list(accumulate(map(len, map(str.encode, clusters)), initial=0))
        is_space = list(map(str.isspace, clusters))
        kept: list[int] = list(range(len(starts)))  # cluster bounds that are unit bounds
        extras: list[tuple[int, int]] = []  # (cluster index of a unit's start, extra weight)
        if rich.spans:
            # Merge the clusters of each entity into one unit.
            inside: set[int] = set()
            for span in rich.spans:
                lo = bisect_right(starts, span.start)
                hi = bisect_left(starts, span.end)
                inside.update(range(lo, hi))
                plain = grapheme_length(text[span.start : span.end])
                extra = span_weight(text, span, limits) - plain
                if extra:
                    extras.append((lo - 1, extra))
            if inside:
                kept = [k for k in kept if k not in inside]
        n = len(kept) - 1
        self.n = n
        self.bounds = [starts[k] for k in kept] if rich.spans else starts
        self.pb = [byte_prefix[k] for k in kept] if rich.spans else byte_prefix
        weighted = limits.url_weight is not None or limits.mention_local_only
        if weighted and extras:
            diff = [0] * (n + 1)
            for cluster, extra in extras:
                diff[bisect_left(kept, cluster) + 1] += extra
            self.pw = list(map(add, kept, accumulate(diff)))
        else:
            self.pw = kept
        self.space = [is_space[k] for k in kept[:-1]] if rich.spans else is_space

    def reach(self, i: int, budget_w: int, budget_b: int | None) -> int:
        """The furthest unit index j such that units i..j-1 fit the budget."""
        j = bisect_right(self.pw, self.pw[i] + budget_w) - 1
        if budget_b is not None:
            j = min(j, bisect_right(self.pb, self.pb[i] + budget_b) - 1)
        return j

    def _last_break(
        self, pattern: regex.Pattern, i: int, j: int, lowest: int
    ) -> tuple[int, int] | None:
        """The last break `pattern` finds that ends a part within units (i, j].

        The break must start at or after code point `lowest`. Returns (last
        unit index + 1 of the part, first unit index of the next part).
        """
        text, bounds = self.text, self.bounds
        end = min(len(text), bounds[j] + 64)  # see whole runs that start by unit j
        while end > lowest:
            match = pattern.search(text, lowest, end)
            if match is None:
                return None
            start = match.start()
            if match.end() > start:  # a run of whitespace: find where it really starts
                while start > 0 and text[start - 1].isspace():
                    start -= 1
                run = _SPACE_RUN.match(text, start)
                stop = run.end() if run else start
            else:  # after a Chinese or Japanese full stop
                stop = start
            if start < lowest:
                return None
            e = bisect_left(bounds, start)
            if e <= j and e > i and bounds[e] == start:
                nxt = bisect_left(bounds, stop)
                if nxt > self.n or bounds[nxt] != stop:
                    nxt = bisect_right(bounds, stop) - 1
                return e, max(nxt, e)
            end = match.start()  # beyond the reach, or inside a cluster: look further left
        return None

    def cut(self, i: int, j: int) -> tuple[int, int]:
        """Where to end a part that starts at unit i and may reach unit j.

        The last paragraph end, else sentence end, else line break that leaves
        the part at least half full; else the last space anywhere.
        """
        half = self.bounds[i + (j - i) // 2]
        for pattern, lowest in (
            (_PARAGRAPH_RE, half),
            (_SENTENCE_RE, half),
            (_LINE_RE, half),
            (_WORD_RE, self.bounds[i] + 1),
        ):
            found = self._last_break(pattern, i, j, lowest)
            if found:
                return found
        # No break at all: cut between graphemes, but not just before
        # something the network would read as a link, mention or tag.
        text, bounds = self.text, self.bounds
        for e in range(j, max(i, j - 32), -1):
            head = text[bounds[e] : bounds[e] + 4].lower()
            if head[:1] not in "@＠#＃" and head != "http":
                return e, e
        return j, j

    def skip_space(self, k: int) -> int:
        while k < self.n and self.space[k]:
            k += 1
        return k

    def last_content(self) -> int:
        k = self.n
        while k > 0 and self.space[k - 1]:
            k -= 1
        return k


def _greedy(
    units: _Units, start: int, end: int, budgets: list[tuple[int, int | None]]
) -> list[tuple[int, int]]:
    """Parts (unit ranges) covering units start..end; `budgets[k]` is part k's (last repeats)."""
    parts: list[tuple[int, int]] = []
    i = units.skip_space(start)
    while i < end:
        budget_w, budget_b = budgets[min(len(parts), len(budgets) - 1)]
        j = units.reach(i, budget_w, budget_b)
        if j <= i:
            piece = units.text[units.bounds[i] : units.bounds[i + 1]]
            raise ComposeError(
                f"cannot fit {piece[:40]!r}… in one post: a single character, link, mention "
                "or hashtag is longer than the room left by the date line and numbering"
            )
        if j >= end:
            parts.append((i, end))
            break
        e, nxt = units.cut(i, j)
        parts.append((i, e))
        i = units.skip_space(nxt)
    return parts


def split(
    rich: RichText,
    limits: Limits,
    *,
    numbering: bool = True,
    header: str = "",
    footer: str = "",
) -> list[Part]:
    """Cut `rich` into parts that each fit `limits`, decorations included.

    `header` opens the first part and `footer` closes the last one, each
    separated from the text by an empty line. With `numbering`, every part of
    a thread of two or more ends with " (k/n)".
    """
    head = header + _SEPARATOR if header else ""
    foot = _SEPARATOR + footer if footer else ""
    head_w, head_b = _cost(head, limits)
    foot_w, foot_b = _cost(foot, limits)
    max_w, max_b = limits.max_graphemes, limits.max_bytes
    text = rich.text
    if text and len(text) <= 4 * max_w and text == text.strip():
        # Most posts fit: measure the whole text once, without cutting it into units.
        # (Far longer texts go straight to the units, which tell whether they fit.)
        body_w = _weight(rich, limits)
        if body_w + head_w + foot_w <= max_w and (
            max_b is None or byte_length(text) + head_b + foot_b <= max_b
        ):
            return [_whole(rich, head, foot)]
    units = _Units(rich, limits)
    first = units.skip_space(0)
    last = max(units.last_content(), first)
    body_w = units.pw[last] - units.pw[first]
    body_b = units.pb[last] - units.pb[first]
    if body_w + head_w + foot_w <= max_w and (max_b is None or body_b + head_b + foot_b <= max_b):
        ranges = [(first, last)]
    else:
        digits = 1
        while True:
            number_w, number_b = (
                _cost(f" ({'9' * digits}/{'9' * digits})", limits) if numbering else (0, 0)
            )

            def budget(
                extra_w: int, extra_b: int, number_w: int = number_w, number_b: int = number_b
            ) -> tuple[int, int | None]:
                room_w = max_w - number_w - extra_w
                room_b = None if max_b is None else max_b - number_b - extra_b
                if room_w < 1 or (room_b is not None and room_b < 4):
                    raise ComposeError(
                        "the date line and numbering leave no room for text within "
                        f"{max_w} characters: shorten the date line or turn numbering off"
                    )
                return room_w, room_b

            plain = budget(0, 0)
            ranges = _greedy(units, first, last, [budget(head_w, head_b), plain])
            if foot:
                # Only the last part carries the footer: if it no longer fits,
                # split that part again with room for the footer in every piece.
                i, e = ranges[-1]
                only = len(ranges) == 1
                room_w, room_b = budget(head_w, head_b) if only else plain
                cost_w = units.pw[e] - units.pw[i] + foot_w
                cost_b = units.pb[e] - units.pb[i] + foot_b
                if cost_w > room_w or (room_b is not None and cost_b > room_b):
                    tail = budget(foot_w, foot_b)
                    opening = budget(head_w + foot_w, head_b + foot_b) if only else tail
                    ranges[-1:] = _greedy(units, i, e, [opening, tail])
            if not numbering or len(ranges) < 10**digits:
                break
            digits += 1
    return _assemble(units, rich, ranges, numbering, header, footer)


def _weight(rich: RichText, limits: Limits) -> int:
    """The weighted length of a whole text whose entities are known."""
    total = grapheme_length(rich.text)
    if rich.spans and (limits.url_weight is not None or limits.mention_local_only):
        for span in rich.spans:
            shown = rich.text[span.start : span.end]
            total += span_weight(rich.text, span, limits) - grapheme_length(shown)
    return total


def _whole(rich: RichText, head: str, foot: str) -> Part:
    """The only part of a text that fits as it is."""
    shift = len(head)
    spans = rich.spans
    if shift:
        spans = tuple(Span(s.start + shift, s.end + shift, s.kind, s.value) for s in spans)
    text = head + rich.text + foot
    return Part(RichText(text, spans), 0, len(rich.text), shift, shift + len(rich.text))


def _assemble(
    units: _Units,
    rich: RichText,
    ranges: list[tuple[int, int]],
    numbering: bool,
    header: str,
    footer: str,
) -> list[Part]:
    total = len(ranges)
    parts: list[Part] = []
    for index, (i, e) in enumerate(ranges):
        a, b = units.bounds[i], units.bounds[e]
        body = rich.text[a:b]
        before = [header] if index == 0 and header else []
        after = [footer] if index == total - 1 and footer else []
        number = f" ({index + 1}/{total})" if numbering and total > 1 else ""
        if body or number:
            prefix = "".join(x + _SEPARATOR for x in before)
            suffix = number + "".join(_SEPARATOR + x for x in after)
        else:  # nothing but the date line (a media-only post)
            prefix, suffix = _SEPARATOR.join(before + after), ""
        shift = len(prefix) - a
        spans = tuple(
            Span(s.start + shift, s.end + shift, s.kind, s.value)
            for s in rich.spans
            if s.start >= a and s.end <= b
        )
        text = prefix + body + suffix
        parts.append(Part(RichText(text, spans), a, b, len(prefix), len(prefix) + len(body)))
    return parts
