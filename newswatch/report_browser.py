"""Open an HTML file in headless Chromium: screenshot, DOM and console messages.

Used by the report's tests and by bench/bench_report.py to check that the page
renders offline with no console message. It drives Debian's `chromium` (or
`chromium-browser`, `google-chrome`) from the command line, with networking
features off, a throwaway profile and console logging to stderr.

    python -m newswatch.report_browser report.html shot.png
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple, Optional

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
# With --enable-logging=stderr every console.log/error and every uncaught
# exception or failed load is printed as `...:INFO:CONSOLE:<line>] "text", source: URL (line)`.
_CONSOLE = re.compile(r":CONSOLE(?::\d+)?\]\s*(.*)$")


class Rendered(NamedTuple):
    """What one headless load produced."""

    console: list[str]  # console messages, uncaught errors and failed loads
    dom: str  # serialised DOM after scripts ran (empty for a screenshot run)
    seconds: float  # wall time of the browser process
    returncode: int


def find_browser() -> Optional[str]:
    """Path of a Chromium-family browser, or None."""
    override = os.environ.get("NEWSWATCH_CHROMIUM")
    if override:
        return override if shutil.which(override) or os.path.exists(override) else None
    return next((shutil.which(name) for name in BROWSERS if shutil.which(name)), None)


def _flags(profile: str) -> list[str]:
    return [
        "--headless",
        "--no-sandbox",  # root in containers; the page is our own file
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-default-apps",
        "--disable-extensions",
        "--no-first-run",
        "--no-default-browser-check",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        "--enable-logging=stderr",
        "--v=0",
    ]


def render(html: str | Path, *, screenshot: str | Path | None = None, width: int = 1200,
           height: int = 2400, dump_dom: bool = False, timeout_s: float = 60.0,
           browser: Optional[str] = None) -> Rendered:
    """Load `html` from disk once; save a screenshot and/or return the DOM."""
    browser = browser or find_browser()
    if browser is None:
        raise FileNotFoundError("no chromium browser found (apt-get install chromium)")
    url = Path(html).resolve().as_uri()
    with tempfile.TemporaryDirectory(prefix="nw-chromium-") as profile:
        cmd = [browser, *_flags(profile), f"--window-size={width},{height}",
               "--virtual-time-budget=3000"]
        if screenshot is not None:
            cmd.append(f"--screenshot={Path(screenshot).resolve()}")
        if dump_dom:
            cmd.append("--dump-dom")
        cmd.append(url)
        started = time.monotonic()
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s,
                              stdin=subprocess.DEVNULL)
        seconds = time.monotonic() - started
    console = [m.group(1) for line in proc.stderr.splitlines() if (m := _CONSOLE.search(line))]
    return Rendered(console, proc.stdout if dump_dom else "", seconds, proc.returncode)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m newswatch.report_browser PAGE.html SHOT.png", file=sys.stderr)
        return 2
    result = render(args[0], screenshot=args[1])
    for message in result.console:
        print(f"console: {message}")
    print(f"{args[1]} in {result.seconds:.2f}s, {len(result.console)} console messages")
    return 0 if result.returncode == 0 and not result.console else 1


if __name__ == "__main__":
    sys.exit(main())
