"""The code version recorded with every run: package version plus git commit when run from a checkout."""

from __future__ import annotations

import functools
import subprocess
from importlib import metadata

from jobs.infra.paths import PROJECT_ROOT


@functools.cache
def code_version() -> str:
    """Return e.g. '0.1.0+g1a2b3c4' (or '+g1a2b3c4.dirty'); just the version outside a git checkout."""
    try:
        version = metadata.version("presstrust")
    except metadata.PackageNotFoundError:
        version = "0+unknown"
    if not (PROJECT_ROOT / ".git").exists():
        return version
    try:
        sha = subprocess.run(
            ["git", "-C", str(PROJECT_ROOT), "rev-parse", "--short=12", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(PROJECT_ROOT), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return version
    return f"{version}+g{sha}{'.dirty' if dirty else ''}" if sha else version
