"""The wall clock budget of one request, and the watchdog that enforces it.

A ``Deadline`` starts when a request's first hop may go. For each hop the
client opens a ``HopWatch``; one ``Watchdog`` thread per client fires the
watch when the deadline passes, and the watch shuts the sockets of the
connections its hop uses (``guard.GuardedConnectionMixin``), whatever urllib3
is blocked in.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from typing import Any, List, Optional, Tuple


class Deadline:
    """The wall clock budget of one request; starts when the first hop may go."""

    def __init__(self, seconds: float) -> None:
        self._seconds = seconds
        self._t0: Optional[float] = None

    @property
    def started(self) -> bool:
        return self._t0 is not None

    def start(self) -> None:
        if self._t0 is None:
            self._t0 = time.monotonic()

    def elapsed(self) -> float:
        return 0.0 if self._t0 is None else time.monotonic() - self._t0

    def remaining(self) -> float:
        return self._seconds - self.elapsed()


class Watchdog:
    """One thread per client that fires hop watches at their deadlines.

    A ``threading.Timer`` per hop started a thread for every request (about
    0.3 ms of CPU each on loopback, ``bench/bench_http.py``); this keeps a heap.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: List[Tuple[float, int, "HopWatch"]] = []
        self._seq = itertools.count()
        self._thread: Optional[threading.Thread] = None

    def schedule(self, watch: "HopWatch", delay_s: float) -> None:
        with self._cond:
            heapq.heappush(self._heap, (time.monotonic() + max(delay_s, 0.0), next(self._seq), watch))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="newswatch-deadlines", daemon=True)
                self._thread.start()
            self._cond.notify()

    def _run(self) -> None:
        with self._cond:
            while True:
                while self._heap and self._heap[0][2].done:
                    heapq.heappop(self._heap)  # stopped before its deadline
                if not self._heap:
                    self._cond.wait()
                    continue
                wait = self._heap[0][0] - time.monotonic()
                if wait > 0:
                    self._cond.wait(wait)
                    continue
                watch = heapq.heappop(self._heap)[2]
                self._cond.release()
                try:
                    watch.fire()
                finally:
                    self._cond.acquire()


class HopWatch:
    """Cuts the sockets of one hop at the deadline, whatever urllib3 is blocked in."""

    def __init__(self, deadline: Deadline, watchdog: Watchdog) -> None:
        self.deadline = deadline
        self.fired = False
        self.done = False
        self._lock = threading.Lock()
        self._conns: List[Any] = []
        watchdog.schedule(self, deadline.remaining())

    def add(self, conn: Any) -> None:
        with self._lock:
            conn.nw_watch = self
            if conn not in self._conns:
                self._conns.append(conn)
            if self.fired and not self.done:
                conn.nw_abort(self)

    def stop(self) -> None:
        with self._lock:
            self.done = True
            self._conns.clear()

    def fire(self) -> None:
        with self._lock:
            if self.done:
                return
            self.fired = True
            for conn in self._conns:
                conn.nw_abort(self)
