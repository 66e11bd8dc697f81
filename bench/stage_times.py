"""`newswatch` with the FnApiRunner's stages timed: which stage takes how long, and how its input is dealt out.

    python bench/stage_times.py run --feeds F --db D --allow-host H --host-delay 0 --host-concurrency 0 [Beam flags]
    python bench/run.py ... --entry bench/stage_times.py      # the same inside the bench (stderr tail only)

For every bundle the runner executes it writes one `STAGE start_s wall_s
workers=N name` line to stderr, and for every buffer it splits among worker
processes one `DEALT kind bytes per worker` line. The stage name lists the
fused steps, so the lines show where work runs on one worker and where it
is spread. It patches two private FnApiRunner methods of Beam 2.77; a
diagnostic, not part of newswatch.
"""

from __future__ import annotations

import sys
import time

from apache_beam.runners.portability.fn_api_runner import execution, fn_runner

T0 = time.monotonic()


def _timed(execute_bundle):
    def wrapper(self, runner_context, bundle_context, bundle_input):
        start = time.monotonic()
        result = execute_bundle(self, runner_context, bundle_context, bundle_input)
        name = bundle_context.stage.name.replace("ref_AppliedPTransform_", "")
        sys.stderr.write(f"STAGE {start - T0:7.2f} {time.monotonic() - start:7.2f}s "
                         f"workers={bundle_context.num_workers} {name}\n")
        return result

    return wrapper


def _measured(partition, kind: str):
    def wrapper(self, n):
        parts = partition(self, n)
        sys.stderr.write(f"DEALT {kind} bytes per worker {[sum(len(chunk) for chunk in part) for part in parts]}\n")
        return parts

    return wrapper


fn_runner.FnApiRunner._execute_bundle = _timed(fn_runner.FnApiRunner._execute_bundle)
execution.ListBuffer.partition = _measured(execution.ListBuffer.partition, "list")
execution.GroupingBuffer.partition = _measured(execution.GroupingBuffer.partition, "grouped")

if __name__ == "__main__":
    from newswatch.cli import main

    sys.exit(main())
