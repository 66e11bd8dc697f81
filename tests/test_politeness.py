"""Tests for newswatch.http.politeness.HostThrottle (threads and processes on one machine)."""

from __future__ import annotations

import multiprocessing
import os
import pickle
import threading
import time
from typing import List, Tuple

import pytest

from conftest_net_helpers import throttle_worker
from newswatch.http.politeness import HostThrottle, ThrottleTimeout


def test_noop_throttle_touches_nothing(tmp_path) -> None:
    state = tmp_path / "state"
    throttle = HostThrottle(concurrency=0, min_delay_s=0, state_dir=str(state))
    for _ in range(2000):
        with throttle.slot("example.org:443"):
            pass
    assert throttle.is_noop
    assert not state.exists()


def test_min_delay_spaces_starts_in_one_process(tmp_path) -> None:
    throttle = HostThrottle(concurrency=0, min_delay_s=0.15, state_dir=str(tmp_path))
    starts = []
    for _ in range(3):
        with throttle.slot("example.org:443"):
            starts.append(time.time())
    gaps = [b - a for a, b in zip(starts, starts[1:])]
    assert starts[-1] - starts[0] >= 2 * 0.15 - 0.01
    assert min(gaps) >= 0.12 and max(gaps) < 0.4


def test_hosts_do_not_delay_each_other(tmp_path) -> None:
    throttle = HostThrottle(concurrency=1, min_delay_s=5.0, state_dir=str(tmp_path))
    started = time.monotonic()
    with throttle.slot("a.example:443"), throttle.slot("b.example:443"), throttle.slot("c.example:80"):
        pass
    assert time.monotonic() - started < 0.5


def test_concurrency_cap_holds_across_threads(tmp_path) -> None:
    throttle = HostThrottle(concurrency=2, min_delay_s=0, state_dir=str(tmp_path), poll_s=0.005)
    lock = threading.Lock()
    active: List[int] = [0]
    peak: List[int] = [0]

    def work() -> None:
        with throttle.slot("example.org:443"):
            with lock:
                active[0] += 1
                peak[0] = max(peak[0], active[0])
            time.sleep(0.1)
            with lock:
                active[0] -= 1

    threads = [threading.Thread(target=work) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert peak[0] == 2


def test_wait_limit_raises_throttle_timeout(tmp_path) -> None:
    throttle = HostThrottle(concurrency=1, min_delay_s=0, state_dir=str(tmp_path), max_wait_s=5)
    with throttle.slot("busy.example:80"):
        started = time.monotonic()
        with pytest.raises(ThrottleTimeout) as info:
            with throttle.slot("busy.example:80", max_wait_s=0.2):
                pass
        assert 0.15 <= time.monotonic() - started < 1.0
    assert isinstance(info.value, TimeoutError)


def test_delay_longer_than_wait_limit_fails_fast(tmp_path) -> None:
    throttle = HostThrottle(concurrency=0, min_delay_s=10, state_dir=str(tmp_path))
    with throttle.slot("slow.example:80"):
        pass
    started = time.monotonic()
    with pytest.raises(ThrottleTimeout):
        with throttle.slot("slow.example:80", max_wait_s=1.0):
            pass
    assert time.monotonic() - started < 0.5  # does not sleep when the turn is out of reach


def test_stamp_from_the_future_is_ignored(tmp_path) -> None:
    throttle = HostThrottle(concurrency=0, min_delay_s=1.0, state_dir=str(tmp_path))
    with throttle.slot("clock.example:80"):
        pass
    stamp = throttle._base_path("clock.example:80") + ".last"
    with open(stamp, "w") as handle:
        handle.write(repr(time.time() + 3600))  # as if the wall clock had stepped back an hour
    started = time.monotonic()
    with throttle.slot("clock.example:80"):
        pass
    assert time.monotonic() - started < 0.5


def test_throttle_pickles(tmp_path) -> None:
    throttle = HostThrottle(concurrency=3, min_delay_s=0.5, state_dir=str(tmp_path), max_wait_s=9)
    copy = pickle.loads(pickle.dumps(throttle))
    assert (copy.concurrency, copy.min_delay_s, copy.state_dir, copy.max_wait_s) == (3, 0.5, str(tmp_path), 9)


def test_state_files_are_private_to_the_user(tmp_path) -> None:
    state = tmp_path / "fresh"
    with HostThrottle(concurrency=1, min_delay_s=0.01, state_dir=str(state)).slot("example.org:443"):
        pass
    assert state.stat().st_mode & 0o077 == 0
    assert all(f.stat().st_mode & 0o077 == 0 for f in state.iterdir())
    assert all("example" not in f.name for f in state.iterdir())  # named by a hash


def test_delay_and_concurrency_hold_across_processes(tmp_path) -> None:
    """Two processes, three slots each, concurrency 1 and 0.2 s between starts."""
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    start_at = time.time() + 1.5  # both children are up before either starts
    workers = [
        context.Process(target=throttle_worker, args=(str(tmp_path), "shared.example:443", 3, 0.05, start_at, out))
        for _ in range(2)
    ]
    for worker in workers:
        worker.start()
    spans: List[Tuple[float, float]] = []
    for _ in workers:
        spans.extend(out.get(timeout=20))
    for worker in workers:
        worker.join(10)
        assert worker.exitcode == 0
    spans.sort()
    starts = [enter for enter, _ in spans]
    gaps = [b - a for a, b in zip(starts, starts[1:])]
    print(f"cross-process start gaps: {', '.join(f'{g:.3f}' for g in gaps)} s")
    assert len(spans) == 6
    # Stamps are spaced by the delay exactly; the recorded entry times also carry
    # scheduler jitter between stamp and entry, hence the per-gap tolerance.
    assert starts[-1] - starts[0] >= 5 * 0.2 - 0.02
    assert min(gaps) >= 0.15
    assert all(prev_leave <= enter for (_, prev_leave), (enter, _) in zip(spans, spans[1:]))
    assert os.listdir(tmp_path)
