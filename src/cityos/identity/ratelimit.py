"""In-process sliding-window rate limits for sign-in and one-time codes.

Per process: with several workers each keeps its own window, so the effective limit is at most
workers × limit. The account lockout (stored on the account) is the limit that holds across them.
"""

from __future__ import annotations

import threading
import time
from collections import deque

from cityos.core.errors import RateLimited


class SlidingWindow:
    def __init__(self) -> None:
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, *, limit: int, seconds: float) -> None:
        """Count one attempt for ``key``; ``RateLimited`` when more than ``limit`` in ``seconds``."""
        now = time.monotonic()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and now - hits[0] > seconds:
                hits.popleft()
            if len(hits) >= limit:
                raise RateLimited(params={"retry_after": int(seconds - (now - hits[0])) + 1})
            hits.append(now)
            if len(self._hits) > 100_000:  # forget idle keys rather than grow without bound
                self._hits = {k: v for k, v in self._hits.items() if v and now - v[-1] <= seconds}

    def reset(self) -> None:
        with self._lock:
            self._hits.clear()


limiter = SlidingWindow()
