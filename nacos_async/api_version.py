"""Which Nacos HTTP API family a call uses, learned from what the server serves.

Server generations differ (README "Nacos versions"): 1.x/2.x serve v1 only (``/v3`` paths get
the framework's 404); 3.0/3.1 serve v3 and still the open v1 APIs (the v1 admin ones answer
410); 3.2+ serve v3 only (removed ``/v1/ns/*`` answer 501, other v1 paths 404; the v1 login
stays). Each call names the family it prefers: naming prefers v1, which Nacos forwards to the
responsible node of a cluster and which lists every cluster; everything else prefers v3.

``auto`` remembers, per family, whether the server served it: a family a server said it lacks
(framework 404, 405, 410, 501) is tried second from then on, and one that answers is marked
served again, so a cluster in a rolling upgrade keeps working. This memory is the client's one
probe of the server generation. ``v1``/``v3`` pin the family.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Literal, TypeVar, TypeVarTuple, Unpack

from nacos_async.errors import NacosApiUnavailableError, NacosAuthError, NacosPermissionError
from nacos_async.events import Events

T = TypeVar("T")
Args = TypeVarTuple("Args")
Family = Literal["v1", "v3"]


def _other(family: Family) -> Family:
    return "v1" if family == "v3" else "v3"


class ApiVersions:
    """Picks v3 or v1 per call and remembers which of them the server serves."""

    def __init__(self, setting: Literal["auto", "v1", "v3"], events: Events) -> None:
        self._pinned: Family | None = None if setting == "auto" else setting
        self._served: dict[Family, bool | None] = {"v1": None, "v3": None}
        self._first: dict[Family, Family] = {}  # preferred family -> the one to try first
        self._events = events
        self._choose()

    def _choose(self) -> None:
        """Work out, for each preference, which family to try first (after every change)."""
        for prefer in ("v1", "v3"):
            other = _other(prefer)
            lacks_prefer = self._served[prefer] is False and self._served[other] is not False
            self._first[prefer] = self._pinned or (other if lacks_prefer else prefer)

    def _mark(self, family: Family, served: bool) -> None:
        self._served[family] = served
        self._choose()

    async def call(
        self,
        v3: Callable[[Unpack[Args]], Awaitable[T]],
        v1: Callable[[Unpack[Args]], Awaitable[T]],
        *args: *Args,
        prefer: Family = "v3",
        around_refusal: bool = False,
    ) -> T:
        """Run the call of ``prefer`` with ``args`` (of the other family if the server lacks
        that one); arguments instead of closures: a read pays for no closure.

        In ``auto`` the other family's call runs once when the server says it lacks the path,
        and, with ``around_refusal``, when the v3 call is refused for want of a token (a 3.x
        admin API whose open v1 twin needs none): if v1 turns out to be gone as well, the
        refusal is raised, which says what to configure. Never around a permission refusal.
        """
        first = self._first[prefer]
        refusal: NacosAuthError | None = None
        try:
            result = await (v3 if first == "v3" else v1)(*args)
        except NacosApiUnavailableError:
            if self._pinned is not None:
                raise
            self._mark(first, False)
        except NacosPermissionError:
            raise
        except NacosAuthError as exc:
            if not (around_refusal and first == "v3" and self._served["v1"] is not False):
                raise
            if self._pinned is not None:
                raise
            refusal = exc
        else:
            if self._served[first] is not True and self._pinned is None:
                self._mark(first, True)
            return result
        second = _other(first)
        try:
            result = await (v3 if second == "v3" else v1)(*args)
        except NacosApiUnavailableError:
            self._mark(second, False)
            if refusal is not None:
                raise refusal from None
            raise
        self._mark(second, True)
        if refusal is None:
            self._events.emit("api_version", version=second)
        else:
            self._events.emit("open_api_fallback", version=second)
        return result
