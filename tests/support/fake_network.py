"""An in-memory network and adapter, for what no real server does on demand.

The runner's own logic (leases, locks, retries, back-off, budgets, crash
recovery) is tested here with injected failures; the real adapters are
tested against real local servers (the atproto stack, mastodon-mock).
This is a test double, and the tests that use it say so.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from hirondelle.networks.base import (
    Action,
    ActionKind,
    ActionResult,
    Network,
    OutgoingPost,
    PublishedPost,
    Relationship,
    RemoteAccount,
)
from hirondelle.networks.budget import Budget, Pool
from hirondelle.networks.errors import NetworkError


@dataclass
class FakeServer:
    """Records every effect; `follows` is a list, so a duplicate shows."""

    follows: list[str] = field(default_factory=list)
    blocks: list[str] = field(default_factory=list)
    mutes: list[str] = field(default_factory=list)
    posts: list[OutgoingPost] = field(default_factory=list)
    calls: int = 0
    #: called before each apply; may raise a NetworkError to simulate failures
    fail: Callable[[Sequence[Action]], None] | None = None


class FakeAdapter:
    network = Network.MASTODON

    def __init__(
        self,
        server: FakeServer,
        *,
        batch: int = 1,
        pools: dict[str, Pool] | None = None,
        clock: Callable[[], float] = time.time,
        remember: bool = True,
    ) -> None:
        self.server = server
        self.batch = batch
        self.remember = remember  # False: the network has no relationships endpoint
        self.budget = Budget(pools or {"requests": Pool(1_000_000, 300)}, clock=clock)

    def whoami(self) -> RemoteAccount:
        return RemoteAccount(self.network, "https://fake.test/users/me", "me@fake.test")

    def resolve(self, handle: str) -> RemoteAccount | None:
        return RemoteAccount(self.network, f"https://fake.test/{handle}", handle)

    def relationships(self, targets: Sequence[RemoteAccount]) -> dict[str, Relationship]:
        if not self.remember:
            return {}
        return {
            t.id: Relationship(
                following=t.id in self.server.follows,
                blocking=t.id in self.server.blocks,
                muting=t.id in self.server.mutes,
            )
            for t in targets
        }

    def cost(self, kind: ActionKind) -> dict[str, float]:
        return {name: 1 for name in self.budget.pools}

    def batch_size(self, kind: ActionKind) -> int:
        return self.batch

    def apply(self, actions: Sequence[Action]) -> list[ActionResult]:
        self.server.calls += 1
        if self.server.fail:
            self.server.fail(actions)
        self.budget.spend(self.cost(actions[0].kind), len(actions))
        results = []
        for action in actions:
            target = {
                ActionKind.FOLLOW: self.server.follows,
                ActionKind.BLOCK: self.server.blocks,
                ActionKind.MUTE: self.server.mutes,
            }[action.kind]
            target.append(action.target.id)
            results.append(ActionResult(action, remote_id=f"{action.kind}:{action.target.id}"))
        return results

    def create_list(self, name: str, description: str = "") -> str:
        return name

    def publish(self, post: OutgoingPost) -> PublishedPost:
        self.server.posts.append(post)
        return PublishedPost(uri=f"fake:{len(self.server.posts)}")

    def close(self) -> None:
        pass


def failing_once(error: NetworkError) -> Callable[[Sequence[Action]], None]:
    state = {"raised": False}

    def fail(actions: Sequence[Action]) -> None:
        if not state["raised"]:
            state["raised"] = True
            raise error

    return fail
