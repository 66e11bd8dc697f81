"""The worker process of a multi-process batch run: Beam's SDK worker, its stderr kept for newswatch.

    python -m newswatch.pipelines.worker     # started by the FnApiRunner, one per core (pipelines/batch.py)

Beam's own worker (`apache_beam.runners.worker.sdk_worker_main`) writes its
start-up chatter to stderr and, whatever the log level, the traceback of every
failed bundle. The runner receives both anyway: the logs over the Fn API
logging channel, a failure as the bundle's error, which `newswatch run` reports
in one line. So this worker lets through to stderr only what the CLI itself
shows: newswatch's own log lines (progress, one per failed item) and critical
errors; Beam's own writes to `sys.stderr` go to the null device. `newswatch -v`
starts Beam's worker unchanged instead (see `worker_command`).
"""

from __future__ import annotations

import logging
import os
import shlex
import sys

BEAM_WORKER = "apache_beam.runners.worker.sdk_worker_main"
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"  # every newswatch command's log lines (cli, report)


def worker_command(quiet: bool) -> str:
    """The shell command the runner starts for each worker process."""
    module = __name__ if quiet else BEAM_WORKER
    return f"{shlex.quote(sys.executable)} -m {module}"


def _shown(record: logging.LogRecord) -> bool:
    return record.name.startswith("newswatch") or record.levelno >= logging.CRITICAL


def keep_stderr_for_newswatch() -> None:
    """Point fd 2 at the null device; newswatch's log records and critical ones still reach the real stderr."""
    stderr = os.fdopen(os.dup(2), "w", buffering=1, errors="backslashreplace")
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 2)
    finally:
        os.close(null)
    handler = logging.StreamHandler(stderr)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    handler.addFilter(_shown)
    logging.getLogger().addHandler(handler)


def main() -> None:
    keep_stderr_for_newswatch()
    from apache_beam.runners.worker import sdk_worker_main

    sdk_worker_main.main(sys.argv)


if __name__ == "__main__":
    main()
