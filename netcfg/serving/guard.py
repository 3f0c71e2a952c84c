"""The ASGI middleware around every request: token, body size, metrics, no tracebacks.

In order: a request without ``Authorization: Bearer <token>`` (when the server has a
token; compared with `hmac.compare_digest`, in constant time) is answered 401; a body
longer than the limit, announced by ``Content-Length`` or counted as it arrives, 413;
anything the application raises that is not a refused request is logged on the server
and answered 500 with a one-line JSON body, never a traceback, and the server keeps
serving. Every answer is counted in `Metrics`.
"""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from netcfg.serving.errors import RequestError
from netcfg.serving.metrics import Metrics

__all__ = ["Guard"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

logger = logging.getLogger("netcfg.serving")


class Guard:
    """ASGI middleware checking and counting every HTTP request.

    Args:
        app: the application.
        metrics: where answers are counted.
        token: the bearer token every request must carry, or None.
        max_body_bytes: the largest body accepted.
    """

    def __init__(
        self, app, *, metrics: Metrics, token: str | None = None, max_body_bytes: int = 1 << 20
    ):
        self.app = app
        self.metrics = metrics
        self.token = None if token is None else token.encode("ascii")
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        state = {"status": 500, "started": False}

        async def counted_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["status"] = message["status"]
                state["started"] = True
            await send(message)

        try:
            refusal = self._refusal(scope)
            if refusal is not None:
                await _answer(counted_send, refusal)
            else:
                await self.app(scope, self._limited(receive), counted_send)
        except Exception:
            logger.exception("error answering %s %s", scope.get("method"), scope.get("path"))
            if not state["started"]:
                await _answer(
                    counted_send,
                    RequestError(500, None, "internal error; the server logged it"),
                )
        finally:
            self.metrics.request(scope["path"], state["status"], time.perf_counter() - start)

    def _refusal(self, scope: Scope) -> RequestError | None:
        """401 or 413 for a request refused on its headers alone, else None."""
        headers = dict(scope.get("headers") or ())
        if self.token is not None and not self._authorized(headers.get(b"authorization", b"")):
            return RequestError(
                401,
                "Authorization",
                "this server needs 'Authorization: Bearer <token>' with its token",
            )
        length = headers.get(b"content-length")
        if length is not None:
            try:
                size = int(length)
            except ValueError:
                return RequestError(400, "Content-Length", "not a number")
            if size > self.max_body_bytes:
                return _too_large(self.max_body_bytes)
        return None

    def _authorized(self, header: bytes) -> bool:
        scheme, _, given = header.partition(b" ")
        if scheme.lower() != b"bearer":
            return False
        return hmac.compare_digest(given.strip(), self.token)

    def _limited(self, receive: Receive) -> Receive:
        """``receive`` that refuses (413) a body growing past the limit."""
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise _too_large(self.max_body_bytes)
            return message

        return limited


def _too_large(limit: int) -> RequestError:
    return RequestError(413, "body", f"larger than the limit of {limit:,} bytes")


async def _answer(send: Send, error: RequestError) -> None:
    """Send ``error`` as a complete JSON answer."""
    body = error.body()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    if error.status == 401:
        headers.append((b"www-authenticate", b"Bearer"))
    await send({"type": "http.response.start", "status": error.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
