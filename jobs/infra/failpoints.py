"""Failpoints for fault tests: named places where a test can make a real process stop and be killed.

When PRESSTRUST_FAILPOINT names a point, the process writes `failpoint NAME reached` to stderr and
sleeps (PRESSTRUST_FAILPOINT_SECONDS, default 60), so a test can SIGKILL it exactly there, e.g.
inside the publishing transaction. Unset, a failpoint costs one dictionary lookup.
"""

from __future__ import annotations

import os
import sys
import time


def failpoint(name: str) -> None:
    if os.environ.get("PRESSTRUST_FAILPOINT") == name:
        sys.stderr.write(f"failpoint {name} reached\n")
        sys.stderr.flush()
        time.sleep(float(os.environ.get("PRESSTRUST_FAILPOINT_SECONDS", "60")))
