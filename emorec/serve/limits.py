"""Bounds on the work one request can cause: body bytes (counted as they arrive), segments per clip, and a
queue in front of the model whose waiters give up after a timeout."""

from __future__ import annotations

import json
import math
import threading
import time
from collections import deque
from contextlib import contextmanager


class BodyLimit:
    """ASGI middleware: a request body to `path` is cut off with 413 as soon as more than `limit` bytes have
    arrived, whether or not it declared a Content-Length (chunked uploads); the rest is never read.

    `message(size)` gives the 413 detail; `size` is the declared length, or the bytes received so far."""

    def __init__(self, app, *, path: str, limit: int, message):
        self.app, self.path, self.limit, self.message = app, path, limit, message

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["path"] != self.path:
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.limit:
            await _send_json(send, 413, {"detail": self.message(declared)})
            return
        state = {"received": 0, "refused": False, "started": False}

        async def counted_receive():
            if state["refused"]:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                state["received"] += len(message.get("body", b""))
                if state["received"] > self.limit:
                    state["refused"] = True
                    if not state["started"]:
                        state["started"] = True
                        await _send_json(send, 413, {"detail": self.message(state["received"])})
                    raise _BodyRefused
            return message

        async def guarded_send(message):
            if state["refused"]:  # the 413 is out: what the app still says is dropped
                return
            if message["type"] == "http.response.start":
                state["started"] = True
            await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except _BodyRefused:
            pass
        except Exception:
            if not state["refused"]:
                raise


class _BodyRefused(Exception):
    pass


def _content_length(scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


async def _send_json(send, status: int, body: dict, headers: list | None = None) -> None:
    data = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(data)).encode()),
                (b"connection", b"close"),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": data})


def segment_limit(duration_s: float, max_segments: int, max_segments_per_s: float) -> int:
    """Most segments one clip of `duration_s` seconds may be cut into."""
    return max(1, min(max_segments, math.ceil(max_segments_per_s * max(duration_s, 0.0))))


class QueueBusy(Exception):
    """The model did not come free in time (or too many wait already); `retry_after` in seconds."""

    def __init__(self, reason: str, retry_after: int):
        self.reason, self.retry_after = reason, retry_after
        super().__init__(reason)


class PredictionQueue:
    """One prediction at a time; waiters are served in arrival order. A waiter gives up (QueueBusy) after
    `timeout_s`, and when `max_waiting` already wait a newcomer is turned away at once, so waiting requests
    never hold every worker thread of the server."""

    def __init__(self, timeout_s: float, max_waiting: int):
        self.timeout_s, self.max_waiting = float(timeout_s), int(max_waiting)
        self._cond = threading.Condition()
        self._waiting: deque[object] = deque()
        self._busy = False

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    def retry_after(self) -> int:
        return max(1, math.ceil(self.timeout_s))

    @contextmanager
    def turn(self):
        with self._cond:
            if self._busy and len(self._waiting) >= self.max_waiting:
                raise QueueBusy(f"busy: {len(self._waiting)} requests already wait for the model", self.retry_after())
            ticket = object()
            self._waiting.append(ticket)
            deadline = time.monotonic() + self.timeout_s
            try:
                while self._busy or self._waiting[0] is not ticket:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise QueueBusy(
                            f"busy: the model did not come free within {self.timeout_s:g} s", self.retry_after()
                        )
                    self._cond.wait(left)
                self._busy = True
            finally:
                self._waiting.remove(ticket)
                self._cond.notify_all()
        try:
            yield
        finally:
            with self._cond:
                self._busy = False
                self._cond.notify_all()
