"""The Mastodon client-API adapter: any server that speaks it (Mastodon,
GoToSocial, Akkoma, Hollo…).

Mastodon acts one account at a time, so follows, blocks and mutes go one per
call; only list membership takes several accounts per call. Before acting,
the adapter reads the current relationships and skips what is already done,
so a retried plan item never follows twice. The adapter spends its own
budget as it calls (one unit of ``requests`` per HTTP call, then ``follows``,
``posts`` or ``media`` per success) and adopts the server's
``X-RateLimit-*`` counts after every answer: the plan runner only reads
`budget.allowance()`/`budget.delay()` and never spends itself.
"""

from __future__ import annotations

import html
import math
import mimetypes
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

import requests

from hirondelle.networks.base import (
    Action,
    ActionKind,
    ActionResult,
    MediaUpload,
    Network,
    OutgoingPost,
    PublishedPost,
    Relationship,
    RemoteAccount,
)
from hirondelle.networks.budget import Budget, Costs, Pool
from hirondelle.networks.errors import (
    AuthExpired,
    InvalidResponse,
    NetworkError,
    NotFound,
    RateLimited,
    Refused,
    Transient,
    Unavailable,
)
from hirondelle.networks.mastodon._http import DEFAULT_TIMEOUT, Api, RateHeaders

__all__ = [
    "DEFAULT_POOLS",
    "LIST_ADD_BATCH",
    "VISIBILITIES",
    "MastodonAdapter",
    "ServerLimits",
    "parse_handle",
]

#: Mastodon's defaults (see shared/reference/platform-limits.md); live headers win.
DEFAULT_POOLS: Mapping[str, Pool] = MappingProxyType(
    {
        "requests": Pool(limit=300, period=5 * 60),
        "follows": Pool(limit=400, period=24 * 3600),
        "posts": Pool(limit=300, period=3 * 3600),
        "media": Pool(limit=30, period=30 * 60),
    }
)
#: accounts added to a list per call (Mastodon sets no documented maximum)
LIST_ADD_BATCH = 40
#: account ids per relationships query
RELATIONSHIPS_CHUNK = 40
VISIBILITIES = ("public", "unlisted", "private", "direct")

_REQUEST: Costs = {"requests": 1}
_ACT_PATH = {
    ActionKind.FOLLOW: "/api/v1/accounts/{id}/follow",
    ActionKind.BLOCK: "/api/v1/accounts/{id}/block",
    ActionKind.MUTE: "/api/v1/accounts/{id}/mute",
}
_ACT_POOL = {ActionKind.FOLLOW: "follows", ActionKind.POST: "posts"}


@dataclass(frozen=True, slots=True)
class ServerLimits:
    """What the person's server accepts, from its instance document."""

    max_characters: int = 500
    characters_reserved_per_url: int = 23
    max_media_attachments: int = 4
    description_limit: int = 1500
    image_size_limit: int | None = None
    video_size_limit: int | None = None
    supported_mime_types: tuple[str, ...] = ()
    domain: str = ""


def action_cost(kind: ActionKind) -> dict[str, float]:
    """Units of `DEFAULT_POOLS` one action spends: a relationships check plus the action."""
    if kind is ActionKind.FOLLOW:
        return {"requests": 2, "follows": 1}
    if kind in (ActionKind.BLOCK, ActionKind.MUTE):
        return {"requests": 2}
    if kind is ActionKind.LIST_ADD:
        return {"requests": 2 / LIST_ADD_BATCH}
    if kind is ActionKind.POST:
        return {"requests": 1, "posts": 1}
    raise ValueError(f"Unknown action kind {kind!r}")


def parse_handle(handle: str) -> tuple[str, str]:
    """``@user@host`` or ``user@host`` → (user, host); ValueError says what is wrong."""
    text = handle.strip().removeprefix("@")
    user, sep, host = text.partition("@")
    if not sep or not user or not host or "@" in host or " " in text or "/" in text:
        raise ValueError(
            f"{handle!r} is not a fediverse address; write it as user@server, "
            "for example alice@mastodon.social."
        )
    return user, host.lower()


def _same_handle(a: str, b: str) -> bool:
    return a.removeprefix("@").casefold() == b.removeprefix("@").casefold()


def _obj(data: Any, *keys: str) -> dict[str, Any]:
    if not isinstance(data, dict) or any(k not in data for k in keys):
        raise InvalidResponse(
            f"The server's answer lacks {', '.join(keys)}; it may not be a Mastodon-compatible "
            "server."
        )
    return data


def _list(data: Any) -> list[Any]:
    if not isinstance(data, list):
        raise InvalidResponse("The server answered an object where a list was expected.")
    return data


def _relationship(data: Any) -> Relationship:
    d = _obj(data, "id")
    return Relationship(
        following=d.get("following") is True,
        requested=d.get("requested") is True,
        blocking=d.get("blocking") is True,
        muting=d.get("muting") is True,
    )


def _already(kind: ActionKind, rel: Relationship | None) -> bool:
    if rel is None:
        return False
    if kind is ActionKind.FOLLOW:
        return rel.following or rel.requested
    if kind is ActionKind.BLOCK:
        return rel.blocking
    if kind is ActionKind.MUTE:
        return rel.muting
    return False


def _chunks(items: Sequence[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


class MastodonAdapter:
    """The `Adapter` for one person's account on one Mastodon-API server."""

    network = Network.MASTODON

    def __init__(
        self,
        base_url: str,
        access_token: str,
        *,
        budget_state: Mapping[str, Mapping[str, float]] | None = None,
        clock: Callable[[], float] = time.time,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        timeout: float = DEFAULT_TIMEOUT,
        media_poll_interval: float = 1.0,
        media_poll_timeout: float = 300.0,
        backdate: bool = False,
    ) -> None:
        #: GoToSocial publishes a status whose `scheduled_at` is past as a backdated post
        self.backdate = backdate
        self.budget = Budget.from_dict(budget_state or {}, DEFAULT_POOLS, clock=clock)
        self.clock = clock
        self._sleep = sleep
        self._poll_interval = media_poll_interval
        self._poll_timeout = media_poll_timeout
        self._api = Api(base_url, access_token, session=session, clock=clock, timeout=timeout)
        self._instance: dict[str, Any] | None = None
        self._limits: ServerLimits | None = None
        #: the request window last seen (its reset as written) and when we first saw it
        self._window: tuple[str, float] = ("", 0.0)
        self._tighten = True  # until a 429 says the server's window is not the pool's

    @property
    def base_url(self) -> str:
        return self._api.base_url

    # --- calls and budgets -------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        pool: str | None = None,
        **kwargs: Any,
    ) -> Any:
        """One HTTP call, charged to ``requests``; a 429 exhausts the right pool."""
        if self.budget.allowance(_REQUEST) < 1:
            raise RateLimited(
                "The request budget for this window is spent; waiting for the next one.",
                retry_after=self.budget.delay(_REQUEST),
            )
        try:
            data, _ = self._api.call(method, path, params, **kwargs)
        except RateLimited as error:
            self.budget.spend(_REQUEST)
            self._exhaust(error.retry_after, pool)
            raise
        except NetworkError:
            if self._api.last_response is not None:
                self._charge_request()
            raise
        self._charge_request()
        return data

    def read(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """One GET charged to the request budget (discovery's searches and lookups)."""
        return self._call("GET", path, params)

    def _charge_request(self) -> None:
        self.budget.spend(_REQUEST)
        rate = self._api.rate()
        if rate is not None and not math.isnan(rate.limit) and rate.limit > 0:
            self.budget.observe(
                "requests",
                limit=rate.limit,
                remaining=rate.remaining,
                reset_at=self._window_end(rate),
            )

    def _window_end(self, rate: RateHeaders) -> float:
        """When the request window really ends, as tightly as the headers allow.

        Whole-second headers leave the end uncertain by up to two seconds,
        which on a server whose window opens at its first request (GoToSocial,
        mastodon-mock) costs that much per window. A fixed window of the
        pool's period that counted an answer we received at `t` ends by
        `t + period`; the earliest such answer of this window bounds its end.
        The bound is only used inside the interval the headers allow, so a
        server with a longer window than the pool's documented period could
        see one request early: its 429 stops the tightening for good.
        """
        now = self.clock()
        if rate.window != self._window[0]:
            self._window = (rate.window, now)
        if not rate.uncertainty or not self._tighten:
            return rate.reset_at
        bound = self._window[1] + self.budget.pools["requests"].period
        return max(rate.reset_at - rate.uncertainty, min(rate.reset_at, bound))

    def _exhaust(self, retry_after: float, pool: str | None) -> None:
        """A 429 names no pool: a window longer than the request window is the action's own."""
        requests_period = self.budget.pools["requests"].period
        target = pool if pool is not None and retry_after > requests_period + 60 else "requests"
        if target == "requests":
            self._tighten = False
        self.budget.exhaust(target, retry_after)

    def _ensure(self, costs: Costs, what: str) -> None:
        if self.budget.allowance(costs) < 1:
            wait = self.budget.delay(costs)
            raise RateLimited(
                f"The {what} budget for this window is spent; next in {wait:.0f} s.",
                retry_after=wait,
            )

    def cost(self, kind: ActionKind) -> dict[str, float]:
        """Units per action: a relationships check plus the action itself."""
        return action_cost(kind)

    def post_cost(self, post: OutgoingPost) -> dict[str, float]:
        """Units for one post with its media (an upload and about one poll each)."""
        n = len(post.media)
        costs: dict[str, float] = {"requests": 1 + 2 * n, "posts": 1}
        if n:
            costs["media"] = n
        return costs

    def batch_size(self, kind: ActionKind) -> int:
        return LIST_ADD_BATCH if kind is ActionKind.LIST_ADD else 1

    # --- the server --------------------------------------------------------

    def instance(self) -> dict[str, Any]:
        """The instance document (v2, else v1, else empty), fetched once."""
        if self._instance is None:
            doc: Any = {}
            for path in ("/api/v2/instance", "/api/v1/instance"):
                try:
                    doc = self._call("GET", path)
                    break
                except NotFound:
                    continue
            self._instance = doc if isinstance(doc, dict) else {}
        return self._instance

    def limits(self) -> ServerLimits:
        """Post length, URL weight and media limits for the text pipeline."""
        if self._limits is None:
            doc = self.instance()
            found = doc.get("configuration")
            conf: dict[str, Any] = found if isinstance(found, dict) else {}
            statuses = conf.get("statuses") or {}
            media = conf.get("media_attachments") or {}
            defaults = ServerLimits()

            def num(section: Mapping[str, Any], key: str, default: Any) -> Any:
                value = section.get(key)
                return value if isinstance(value, int) and value > 0 else default

            max_chars = num(statuses, "max_characters", doc.get("max_toot_chars"))
            self._limits = ServerLimits(
                max_characters=max_chars if isinstance(max_chars, int) else defaults.max_characters,
                characters_reserved_per_url=num(
                    statuses, "characters_reserved_per_url", defaults.characters_reserved_per_url
                ),
                max_media_attachments=num(
                    statuses, "max_media_attachments", defaults.max_media_attachments
                ),
                description_limit=num(media, "description_limit", defaults.description_limit),
                image_size_limit=num(media, "image_size_limit", None),
                video_size_limit=num(media, "video_size_limit", None),
                supported_mime_types=tuple(
                    m for m in media.get("supported_mime_types") or () if isinstance(m, str)
                ),
                domain=self._domain(),
            )
        return self._limits

    def _domain(self) -> str:
        doc = self.instance()
        for key in ("domain", "uri"):  # v2 says domain; v1's uri is the domain too
            value = doc.get(key)
            if isinstance(value, str) and value:
                return (urlsplit(value).hostname or value).lower()
        return (urlsplit(self.base_url).hostname or "").lower()

    def _own_hosts(self) -> set[str]:
        return {self._domain(), (urlsplit(self.base_url).hostname or "").lower()}

    def _account(self, data: Any) -> RemoteAccount:
        d = _obj(data, "id", "acct")
        acct = str(d["acct"]).removeprefix("@")
        handle = acct if "@" in acct else f"{acct}@{self._domain()}"
        uri = d.get("uri") or d.get("url")
        if not isinstance(uri, str) or not uri:
            raise InvalidResponse("The server described an account without its address (uri).")
        return RemoteAccount(
            network=Network.MASTODON,
            id=uri,
            handle=handle,
            display_name=str(d.get("display_name") or ""),
            local_id=str(d["id"]),
        )

    # --- the Adapter protocol ----------------------------------------------

    def whoami(self) -> RemoteAccount:
        return self._account(self._call("GET", "/api/v1/accounts/verify_credentials"))

    def resolve(self, handle: str) -> RemoteAccount | None:
        """Lookup first (cheap, local); then a resolving search (WebFinger on the server)."""
        user, host = parse_handle(handle)
        wanted = f"{user}@{host}"
        acct = user if host in self._own_hosts() else wanted
        try:
            found = self._account(self._call("GET", "/api/v1/accounts/lookup", {"acct": acct}))
            if _same_handle(found.handle, wanted):
                return found
        except NotFound:
            pass
        data = self._call(
            "GET",
            "/api/v2/search",
            {"q": wanted, "resolve": True, "type": "accounts", "limit": 5},
        )
        for item in _list(_obj(data, "accounts")["accounts"]):
            candidate = self._account(item)
            if _same_handle(candidate.handle, wanted):
                return candidate
        return None

    def _local_ids(self, targets: Sequence[RemoteAccount]) -> dict[str, str | None]:
        """Target key (`_target_key`) → local id on this server, resolving what lacks one."""
        out: dict[str, str | None] = {}
        for target in targets:
            key = _target_key(target)
            if key in out:
                continue
            if target.local_id:
                out[key] = target.local_id
            else:
                found = self.resolve(target.handle)
                out[key] = found.local_id if found else None
        return out

    def _relationships_by_local_id(self, local_ids: Sequence[str]) -> dict[str, Relationship]:
        unique = list(dict.fromkeys(local_ids))
        out: dict[str, Relationship] = {}
        for chunk in _chunks(unique, RELATIONSHIPS_CHUNK):
            data = self._call("GET", "/api/v1/accounts/relationships", {"id": chunk})
            for item in _list(data):
                out[str(_obj(item, "id")["id"])] = _relationship(item)
        return out

    def relationships(self, targets: Sequence[RemoteAccount]) -> dict[str, Relationship]:
        local = self._local_ids(targets)
        rels = self._relationships_by_local_id([lid for lid in local.values() if lid])
        out = {}
        for target in targets:  # keyed by RemoteAccount.id, as the protocol says
            lid = local.get(_target_key(target))
            if target.id and lid and lid in rels:
                out[target.id] = rels[lid]
        return out

    def apply(self, actions: Sequence[Action]) -> list[ActionResult]:
        """One result per action; a refused sign-in is raised instead (AuthExpired).

        An expired token says nothing about the targets, so it stops the run
        rather than failing items; the actions done before it are found done
        (relationships, list members) when the run resumes.
        """
        if not actions:
            return []
        kinds = {a.kind for a in actions}
        if len(kinds) != 1:
            raise ValueError(f"apply() takes actions of one kind, got {sorted(kinds)}")
        kind = actions[0].kind
        if kind is ActionKind.POST:
            raise ValueError("Posts go through publish(), not apply().")
        try:
            local = self._local_ids([a.target for a in actions])
        except AuthExpired:
            raise
        except NetworkError as error:
            return [ActionResult(a, error=error) for a in actions]
        if kind is ActionKind.LIST_ADD:
            results = self._list_add(actions, local)
        else:
            results = self._act(kind, actions, local)
        for result in results:
            if isinstance(result.error, AuthExpired):
                raise result.error
        return results

    def _act(
        self, kind: ActionKind, actions: Sequence[Action], local: Mapping[str, str | None]
    ) -> list[ActionResult]:
        results: list[ActionResult] = []
        try:
            rels = self._relationships_by_local_id([v for v in local.values() if v])
        except NetworkError as error:
            return [ActionResult(a, error=error) for a in actions]
        stop: NetworkError | None = None
        costs = {k: v for k, v in self.cost(kind).items() if k != "requests"}
        costs["requests"] = 1
        pool = _ACT_POOL.get(kind)
        for action in actions:
            lid = local.get(_target_key(action.target))
            if stop is not None:
                results.append(ActionResult(action, error=stop))
                continue
            if lid is None:
                results.append(ActionResult(action, error=_not_found(action.target)))
                continue
            if _already(kind, rels.get(lid)):
                results.append(ActionResult(action, remote_id=lid, already_done=True))
                continue
            body: dict[str, Any] = {"notifications": True} if kind is ActionKind.MUTE else {}
            try:
                self._ensure(costs, kind.value)
                data = self._call("POST", _ACT_PATH[kind].format(id=lid), body, pool=pool)
                rel = _relationship(data)
            except (Transient, AuthExpired) as error:
                stop = error
                results.append(ActionResult(action, error=error))
                continue
            except NetworkError as error:
                results.append(ActionResult(action, error=error))
                continue
            rels[lid] = rel
            if not _already(kind, rel):
                results.append(
                    ActionResult(
                        action,
                        error=Refused(f"The server did not {kind.value} {action.target.handle}."),
                    )
                )
                continue
            if pool is not None:
                self.budget.spend({pool: 1})
            results.append(ActionResult(action, remote_id=lid))
        return results

    def _list_members(self, list_id: str) -> set[str]:
        # limit=0 asks Mastodon for every member in one page
        data = self._call("GET", f"/api/v1/lists/{list_id}/accounts", {"limit": 0})
        return {str(_obj(item, "id")["id"]) for item in _list(data)}

    def _list_add(
        self, actions: Sequence[Action], local: Mapping[str, str | None]
    ) -> list[ActionResult]:
        results: dict[int, ActionResult] = {}
        by_list: dict[str, list[int]] = {}
        for index, action in enumerate(actions):
            if not action.list_id:
                raise ValueError("A list_add action needs its list_id (from create_list()).")
            by_list.setdefault(action.list_id, []).append(index)
        stop: NetworkError | None = None  # a failure that stops the whole batch
        for list_id, indexes in by_list.items():
            failed: NetworkError | None = stop  # a failure for this list only
            members: set[str] = set()
            if failed is None:
                try:
                    members = self._list_members(list_id)
                except (Transient, AuthExpired) as error:
                    failed = stop = error
                except NetworkError as error:
                    failed = error
            to_add: dict[str, list[int]] = {}
            for i in indexes:
                lid = local.get(_target_key(actions[i].target))
                if failed is not None:
                    results[i] = ActionResult(actions[i], error=failed)
                elif lid is None:
                    results[i] = ActionResult(actions[i], error=_not_found(actions[i].target))
                elif lid in members:
                    results[i] = ActionResult(actions[i], remote_id=lid, already_done=True)
                else:
                    to_add.setdefault(lid, []).append(i)
            if to_add:
                stop = self._add_members(list_id, to_add, actions, results) or stop
        return [results[i] for i in range(len(actions))]

    def _add_members(
        self,
        list_id: str,
        to_add: Mapping[str, list[int]],
        actions: Sequence[Action],
        results: dict[int, ActionResult],
    ) -> NetworkError | None:
        """Add in one call; if the server refuses the batch, find the culprit one by one."""
        groups = [list(to_add)]
        while groups:
            ids = groups.pop(0)
            try:
                self._call("POST", f"/api/v1/lists/{list_id}/accounts", {"account_ids": ids})
            except (Transient, AuthExpired) as error:
                for lid in [x for g in [ids, *groups] for x in g]:
                    for i in to_add[lid]:
                        results[i] = ActionResult(actions[i], error=error)
                return error
            except NetworkError as error:
                if len(ids) > 1:
                    groups.extend([lid] for lid in ids)
                    continue
                for i in to_add[ids[0]]:
                    results[i] = ActionResult(actions[i], error=error)
                continue
            for lid in ids:
                for i in to_add[lid]:
                    results[i] = ActionResult(actions[i], remote_id=lid)
        return None

    def create_list(self, name: str, description: str = "") -> str:
        """Reuse a list with that exact title, so a retried plan makes no twin.

        Mastodon lists have no description; it is ignored.
        """
        if not name.strip():
            raise ValueError("A list needs a name.")
        for item in _list(self._call("GET", "/api/v1/lists")):
            if isinstance(item, dict) and item.get("title") == name and "id" in item:
                return str(item["id"])
        data = self._call(
            "POST", "/api/v1/lists", {"title": name, "replies_policy": "list", "exclusive": False}
        )
        return str(_obj(data, "id")["id"])

    def publish(self, post: OutgoingPost) -> PublishedPost:
        """Post one status; `Idempotency-Key` makes a retried post come back as the same one.

        Mastodon cannot backdate (`created_at` is ignored: the text states the
        date). `PublishedPost.uri` is the status id on this server (what
        replies need), `url` its public address.
        """
        if post.visibility not in VISIBILITIES:
            raise ValueError(f"visibility must be one of {', '.join(VISIBILITIES)}")
        if post.media:
            most = self.limits().max_media_attachments
            if len(post.media) > most:
                raise ValueError(f"This server takes at most {most} media per post.")
        self._ensure({"requests": 1, "posts": 1}, "posting")
        media_ids = [self._upload(m) for m in post.media]
        body: dict[str, Any] = {"status": post.text, "visibility": post.visibility}
        if media_ids:
            body["media_ids"] = media_ids
        if post.sensitive or any(m.sensitive for m in post.media):
            body["sensitive"] = True
        if post.language:
            body["language"] = post.language
        if post.reply_to is not None:
            body["in_reply_to_id"] = post.reply_to.uri
        if post.quote is not None:
            body["quoted_status_id"] = post.quote.uri  # Mastodon ≥ 4.5; others ignore it
        if self.backdate and post.created_at is not None:
            # GoToSocial only (instance-allow-backdating-statuses): no notifications, no
            # timelines; Mastodon ignores a past scheduled_at and posts it dated now.
            body["scheduled_at"] = post.created_at.isoformat()
        data = self._call(
            "POST",
            "/api/v1/statuses",
            body,
            headers={"Idempotency-Key": post.key},
            pool="posts",
        )
        status = _obj(data, "id")
        self.budget.spend({"posts": 1})
        url = status.get("url") or status.get("uri") or ""
        return PublishedPost(uri=str(status["id"]), url=str(url))

    def find_published(
        self, post: OutgoingPost, since: datetime, *, max_pages: int = 10
    ) -> PublishedPost | None:
        """This account's status with exactly `post`'s text, posted since `since`.

        Mastodon remembers an `Idempotency-Key` for about an hour only: a post
        accepted just before a crash or a timeout, retried later than that,
        would be published twice. The runner asks this first for a post it
        may already have sent. Rendered HTML is only a first sieve; the raw
        text (`/source`) decides. Looks at the newest `max_pages` × 40 statuses.
        """
        me = self.whoami().local_id
        reply_to = post.reply_to.uri if post.reply_to is not None else None
        sieve = _gist(post.text)
        params: dict[str, Any] = {"limit": 40, "exclude_reblogs": True}
        for _ in range(max_pages):
            page = [
                _obj(s, "id")
                for s in _list(self._call("GET", f"/api/v1/accounts/{me}/statuses", params))
            ]
            for status in page:
                created = _created_at(status.get("created_at"))
                if created is not None and created < since:
                    return None
                parent = status.get("in_reply_to_id")
                if (str(parent) if parent else None) != reply_to:
                    continue
                if _gist(_html_text(str(status.get("content") or ""))) != sieve:
                    continue
                source = _obj(self._call("GET", f"/api/v1/statuses/{status['id']}/source"), "id")
                if str(source.get("text", "")).strip() == post.text.strip():
                    url = status.get("url") or status.get("uri") or ""
                    return PublishedPost(uri=str(status["id"]), url=str(url))
            if len(page) < params["limit"]:
                return None
            params["max_id"] = str(page[-1]["id"])
        return None

    def set_alt_texts(self, post: PublishedPost, alts: Sequence[str]) -> PublishedPost:
        """Describe the images of a published status (the archive has none).

        Media attached to a status change only through a status edit with
        `media_attributes`; the text, warning and media stay as they were
        (read back from the status's source).
        """
        status = _obj(self._call("GET", f"/api/v1/statuses/{post.uri}"), "id")
        source = _obj(self._call("GET", f"/api/v1/statuses/{post.uri}/source"), "id")
        ids = [str(m["id"]) for m in status.get("media_attachments") or []]
        if not ids:
            raise InvalidResponse(f"Status {post.uri} has no media to describe.")
        self._call(
            "PUT",
            f"/api/v1/statuses/{post.uri}",
            {
                "status": source.get("text", ""),
                "spoiler_text": source.get("spoiler_text", ""),
                "sensitive": bool(status.get("sensitive")),
                "media_ids": ids,
                "media_attributes": [
                    {"id": media_id, "description": alt}
                    for media_id, alt in zip(ids, alts, strict=False)
                ],
            },
        )
        return post

    def _upload(self, media: MediaUpload) -> str:
        """`POST /api/v2/media`; a 202 means "processing": poll until `url` is set."""
        self._ensure({"requests": 1, "media": 1}, "media upload")
        ext = mimetypes.guess_extension(media.mime_type) or ".bin"
        params = {"description": media.alt} if media.alt else {}
        data = _obj(
            self._call(
                "POST",
                "/api/v2/media",
                params,
                files={"file": (f"media{ext}", media.data, media.mime_type)},
                pool="media",
            ),
            "id",
        )
        self.budget.spend({"media": 1})
        media_id = str(data["id"])
        polls = max(1, math.ceil(self._poll_timeout / max(self._poll_interval, 1e-9)))
        for _ in range(polls):
            if data.get("url"):
                return media_id
            self._sleep(self._poll_interval)
            data = _obj(self._call("GET", f"/api/v1/media/{media_id}"), "id")
        if data.get("url"):
            return media_id
        raise Unavailable(
            f"The server is still processing media {media_id} after "
            f"{self._poll_timeout:.0f} s; will retry later."
        )

    def close(self) -> None:
        self._api.close()

    def __enter__(self) -> MastodonAdapter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _not_found(target: RemoteAccount) -> NotFound:
    return NotFound(f"{target.handle} could not be found from this server.")


def _target_key(target: RemoteAccount) -> str:
    """A target's identity in a batch: its URI, or its handle when only that is known."""
    return target.id or f"handle:{target.handle.casefold()}"


def _created_at(value: Any) -> datetime | None:
    """An ISO 8601 time from the server, aware; None if absent or unreadable."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


_MENTION = re.compile(r"@[\w.-]+(?:@[\w.-]+)?")
_TAG = re.compile(r"<br\s*/?>|</p>|<[^>]+>", re.I)


def _html_text(content: str) -> str:
    """Text of a status's rendered HTML (links keep their full address)."""
    return html.unescape(
        _TAG.sub(lambda m: " " if m.group(0).startswith(("<br", "</")) else "", content)
    )


def _gist(text: str) -> str:
    """Letters and digits, mentions left out (rendered as @user, not @user@host)."""
    return "".join(c for c in _MENTION.sub("", text) if c.isalnum())[:80].casefold()
