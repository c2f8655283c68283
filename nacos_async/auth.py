"""How a request gets its token and what a refusal does: one policy for HTTP and gRPC.

For each request the transport opens an ``AuthFlow`` and calls it at two moments, as azure-core's
bearer-token policy does (``on_request`` / ``on_challenge``), while failover and retries stay in
the transport:

- before sending (after a connection slot is held, so the token is read as late as possible):
  ``token_now()`` gives the token without waiting, or None; then ``await wait_for_token()``
  (without the slot) joins the shared login, bounded by the request's deadline.
- after a refusal (HTTP 401/403, gRPC errorCode 403): ``await refused(...)`` decides.
  ``authorization failed`` is a ``NacosPermissionError`` at once: a new token will not help.
  Any other message (token expired, invalid, bad signature, unknown user, unrecognised) means
  the token is bad: the request is replayed once, with a newer token if another coroutine already
  got one, otherwise after one shared login. Refused again, it is replayed once more only if a
  still newer token exists (made by someone else: this request causes no further login);
  otherwise ``NacosAuthError``.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable, Mapping, MutableMapping
from typing import Literal

from nacos_async.errors import NacosAuthError, NacosPermissionError
from nacos_async.events import Events
from nacos_async.signing import AccessKeySigner
from nacos_async.token import Token, TokenManager

Placement = Literal["header", "query"]
MakeError = Callable[[type[NacosAuthError], str], NacosAuthError]
REFUSAL_STATUSES = frozenset({401, 403})
NO_CREDENTIALS = (
    "refused: the server requires credentials; give username and password "
    "(NACOS_USERNAME / NACOS_PASSWORD)"
)
"""What a refusal says when the client has no credentials to log in with (both transports)."""


class Refusal(enum.Enum):
    """What a refusal means for the caller."""

    TOKEN = "token"  # expired, invalid, bad signature, unknown user: a fresh token may help
    PERMISSION = "permission"  # authorization failed: a fresh token will not help


def classify_refusal(message: str) -> Refusal:
    """Read a refusal's message; anything unrecognised counts as a bad token (a replay is cheap)."""
    return Refusal.PERMISSION if "authorization failed" in message.lower() else Refusal.TOKEN


class AuthPolicy:
    """The credentials of one client: its token manager, its access-key signer, its placement."""

    def __init__(
        self,
        tokens: TokenManager | None,
        events: Events,
        *,
        signer: AccessKeySigner | None = None,
        placement: Placement = "header",
    ) -> None:
        self.tokens = tokens
        self.signer = signer
        self.placement = placement
        self._events = events
        self._bearer: tuple[Token, dict[str, str]] | None = None

    def flow(
        self, path: str, deadline: float = math.inf, *, sent: Token | None = None
    ) -> AuthFlow | None:
        """The token dealings of one request, or None when the client does not log in.

        ``sent``: the token the request already sent (taken with ``token_now`` on the fast
        path), when the flow is made only once it is needed, at a refusal.
        """
        if self.tokens is None:
            return None
        flow = AuthFlow(self, self.tokens, path, deadline)
        flow.sent = sent
        return flow

    def token_now(self, now: float | None = None) -> Token | None:
        """The fast path of ``AuthFlow.token_now`` for a request that has no flow yet: the token
        to send now, or None (no login configured, or wait for one: make the flow then).
        ``now``: the clock's time, when the caller has just read it."""
        tokens = self.tokens
        return tokens.usable(now) if tokens is not None else None

    def put_http(
        self, token: Token, headers: MutableMapping[str, str], params: MutableMapping[str, str]
    ) -> None:
        if self.placement == "header":
            headers["Authorization"] = "Bearer " + token.value
        else:
            params["accessToken"] = token.value

    def bearer_headers(self, token: Token) -> Mapping[str, str]:
        """The headers of a request that carries nothing but the token: one mapping per token,
        shared by every such request (the transport copies it, never changes it)."""
        cached = self._bearer
        if cached is None or cached[0] is not token:
            cached = self._bearer = (token, {"Authorization": "Bearer " + token.value})
        return cached[1]

    @staticmethod
    def put_grpc(token: Token, headers: MutableMapping[str, str]) -> None:
        headers["accessToken"] = token.value


class AuthFlow:
    """One request's token: which one it sent, and whether it was replayed already."""

    __slots__ = ("_deadline", "_path", "_policy", "_tokens", "replayed", "sent")

    def __init__(
        self, policy: AuthPolicy, tokens: TokenManager, path: str, deadline: float
    ) -> None:
        self._policy = policy
        self._tokens = tokens
        self._path = path
        self._deadline = deadline
        self.sent: Token | None = None
        self.replayed = False

    def token_now(self) -> Token | None:
        """The token to send now, or None when the request must wait for a login first."""
        token = self._tokens.usable()
        self.sent = token
        return token

    async def wait_for_token(self) -> None:
        """Join the shared login (``NacosTimeoutError`` past the request's deadline)."""
        await self._tokens.get(self._deadline)

    async def refused(self, message: str, make_error: MakeError) -> None:
        """The server refused the token this request sent: return to replay, or raise."""
        token = self.sent
        assert token is not None, "a refusal of a request that sent no token"
        if classify_refusal(message) is Refusal.PERMISSION:
            self._policy._events.emit("permission_error", path=self._path, message=message)
            raise make_error(NacosPermissionError, "permission denied")
        if self.replayed and self._tokens.newer_than(token) is None:
            self._tokens.reject(token)
            self._policy._events.emit("auth_error", path=self._path, message=message)
            raise make_error(NacosAuthError, "refused again after logging in anew")
        self._policy._events.emit("replay", path=self._path, generation=token.generation)
        if not self.replayed:
            self.replayed = True
            await self._tokens.replace_rejected(token, self._deadline)
