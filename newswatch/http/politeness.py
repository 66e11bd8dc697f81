"""Per-host politeness shared by every process on one machine.

``HostThrottle`` caps how many requests run at once against one ``host:port``
and how soon one request may start after the previous one. The state lives in
small files under a directory (one set per host, named by a hash of
``host:port``) guarded by ``flock`` locks, so Beam DirectRunner workers in
separate processes, and threads within a process, all see the same limits; a
lock held by a process that dies is released by the kernel.

Example::

    throttle = HostThrottle(concurrency=2, min_delay_s=1.0)
    with throttle.slot("example.org:443"):
        ...  # one request hop

When a slot cannot be had within the wait limit, ``slot`` raises
``ThrottleTimeout`` (a ``TimeoutError``); ``newswatch.http.client.SafeHttpClient``
turns it into ``FetchError`` with code ``timeout``.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import tempfile
import time
from typing import Iterator, Optional

__all__ = ["HostThrottle", "ThrottleTimeout", "default_state_dir"]


class ThrottleTimeout(TimeoutError):
    """No slot for a host became free within the allowed wait."""


def default_state_dir() -> str:
    """Per-user directory under the system temp dir for throttle state files."""
    return os.path.join(tempfile.gettempdir(), f"newswatch-throttle-{os.getuid()}")


class HostThrottle:
    """Cross-process per-host concurrency cap and minimum delay between request starts."""

    def __init__(
        self,
        concurrency: int = 2,
        min_delay_s: float = 1.0,
        state_dir: Optional[str] = None,
        max_wait_s: float = 120.0,
        poll_s: float = 0.02,
    ) -> None:
        """Store the limits.

        Args:
            concurrency: requests allowed in flight per host; 0 means unlimited.
            min_delay_s: minimum seconds between two request starts on one host; 0 disables.
            state_dir: directory for lock and state files (default: ``default_state_dir()``).
            max_wait_s: longest a caller waits for a slot before ``ThrottleTimeout``.
            poll_s: how often a waiting caller retries a busy lock.
        """
        if concurrency < 0 or min_delay_s < 0 or max_wait_s < 0 or poll_s <= 0:
            raise ValueError("throttle limits must be non-negative (poll_s positive)")
        self.concurrency = int(concurrency)
        self.min_delay_s = float(min_delay_s)
        self.state_dir = state_dir or default_state_dir()
        self.max_wait_s = float(max_wait_s)
        self.poll_s = float(poll_s)

    def __repr__(self) -> str:
        return (
            f"HostThrottle(concurrency={self.concurrency}, min_delay_s={self.min_delay_s}, "
            f"state_dir={self.state_dir!r}, max_wait_s={self.max_wait_s})"
        )

    @property
    def is_noop(self) -> bool:
        """True when neither limit is active, so ``slot`` touches no files."""
        return self.concurrency == 0 and self.min_delay_s == 0

    @contextlib.contextmanager
    def slot(self, host_port: str, max_wait_s: Optional[float] = None) -> Iterator[None]:
        """Block until a request to ``host_port`` may start; hold a concurrency slot inside.

        Args:
            host_port: the key, e.g. ``"example.org:443"`` (compared case-insensitively).
            max_wait_s: a tighter wait limit for this call (e.g. a request's remaining deadline).

        Raises:
            ThrottleTimeout: no slot within ``min(max_wait_s, self.max_wait_s)`` seconds.
        """
        if self.is_noop:
            yield
            return
        limit = self.max_wait_s if max_wait_s is None else min(max_wait_s, self.max_wait_s)
        give_up_at = time.monotonic() + max(limit, 0.0)
        base = self._base_path(host_port)
        slot_fd = self._acquire_slot(base, host_port, give_up_at) if self.concurrency else None
        try:
            if self.min_delay_s:
                self._wait_turn(base, host_port, give_up_at)
            yield
        finally:
            if slot_fd is not None:
                os.close(slot_fd)  # closing the descriptor drops its flock

    def _base_path(self, host_port: str) -> str:
        """Path prefix of the state files of one host, creating the directory if needed."""
        os.makedirs(self.state_dir, mode=0o700, exist_ok=True)
        if os.stat(self.state_dir).st_uid != os.getuid():
            # In a shared temp dir another user could plant the directory and its locks.
            raise PermissionError(f"throttle state dir {self.state_dir} belongs to another user")
        digest = hashlib.sha256(host_port.strip().lower().encode("utf-8")).hexdigest()[:32]
        return os.path.join(self.state_dir, digest)

    def _acquire_slot(self, base: str, host_port: str, give_up_at: float) -> int:
        """Lock one of ``concurrency`` slot files; return its descriptor."""
        while True:
            for index in range(self.concurrency):
                fd = os.open(f"{base}.slot{index}", os.O_RDWR | os.O_CREAT, 0o600)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    os.close(fd)
                    continue
                except BaseException:
                    os.close(fd)
                    raise
                return fd
            self._pause(give_up_at, host_port, "a concurrency slot")

    def _wait_turn(self, base: str, host_port: str, give_up_at: float) -> None:
        """Sleep until ``min_delay_s`` after the previous start, then record this start."""
        fd = os.open(f"{base}.last", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    self._pause(give_up_at, host_port, "its turn")
            try:
                # The lock is held while sleeping: the next starter must wait for
                # this one anyway, and the stamp is written right before we go.
                last = _parse_stamp(os.pread(fd, 64, 0))
                while last is not None:
                    now = time.time()
                    if last > now + self.min_delay_s:
                        break  # stamp from the future: the wall clock stepped back
                    wait = last + self.min_delay_s - now
                    if wait <= 0:
                        break
                    if time.monotonic() + wait > give_up_at:
                        raise ThrottleTimeout(f"throttle: no turn for {host_port} in time")
                    time.sleep(wait)
                stamp = repr(time.time()).encode("ascii")
                os.ftruncate(fd, 0)
                os.pwrite(fd, stamp, 0)
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def _pause(self, give_up_at: float, host_port: str, what: str) -> None:
        """Sleep one poll interval, or raise if the wait limit is used up."""
        left = give_up_at - time.monotonic()
        if left <= 0:
            raise ThrottleTimeout(f"throttle: no {what} for {host_port} in time")
        time.sleep(min(self.poll_s, left))


def _parse_stamp(raw: bytes) -> Optional[float]:
    """Start time stored in a state file, or None when empty or torn."""
    try:
        return float(raw.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        return None
