"""Run `newswatch run` batches in this process and report their peak memory as JSON.

Used by tests/test_faults.py in a subprocess, so the number is the RSS of a
process that does nothing but the pipeline. A warm-up run first loads every
library (Beam, spaCy, trafilatura, DuckDB); then, before each measured run,
the kernel's high-water mark is reset (``/proc/self/clear_refs`` = 5) so
VmHWM afterwards is the peak of that run alone.

    python tests/faults/measure.py SPEC.json OUT.json
"""

from __future__ import annotations

import gc
import json
import resource
import sys
import time


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def main(spec_path: str, out_path: str) -> int:
    from newswatch.cli import main as cli

    with open(spec_path) as fh:
        spec = json.load(fh)
    common = ["--host-delay", "0"] + [a for h in spec["allow_hosts"] for a in ("--allow-host", h)]
    result = {"runs": {}}
    t0 = time.monotonic()
    result["warmup_exit"] = cli(["run", "--feeds", *spec["warmup_feeds"], "--db", spec["warmup_db"], *common])
    result["warmup_s"] = time.monotonic() - t0
    result["after_warmup_maxrss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for label, run in spec["runs"].items():
        gc.collect()
        before = _status_kib("VmRSS")
        reset = _reset_peak()
        t0 = time.monotonic()
        code = cli(["run", "--feeds", *run["feeds"], "--db", run["db"], *common])
        result["runs"][label] = {
            "exit": code,
            "seconds": time.monotonic() - t0,
            "rss_before_mib": before / 1024,
            "peak_mib": (_status_kib("VmHWM") if reset else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) / 1024,
            "peak_is_per_run": reset,
        }
    result["maxrss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with open(out_path, "w") as fh:
        json.dump(result, fh, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
