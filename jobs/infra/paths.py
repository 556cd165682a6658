"""Where presstrust finds its shipped data (sample, labels, aliases, platforms) and its default database.

The shipped files are package data (`jobs/data/`, read through importlib.resources), so an installed wheel
has them as a checkout does; the lexicons are `features/data/lexicons/` (features.lexicons). The default
database is `data/presstrust.duckdb` in a checkout (what `make run` writes), and
`$XDG_DATA_HOME/presstrust/presstrust.duckdb` (default `~/.local/share/presstrust/`) for an installed
presstrust; `--db` / `PRESSTRUST_DB` choose another, `PRESSTRUST_DATA_DIR` another folder for the default.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path


def package_data(package: str, *parts: str) -> Path:
    """A shipped data file or folder as a filesystem path (installed packages are plain folders, never zips)."""
    found = resources.files(package).joinpath(*parts)
    if not isinstance(found, Path):  # a zipped install: presstrust needs real files (DuckDB, Polars read them)
        raise RuntimeError(f"presstrust's package data {package}/{'/'.join(parts)} is not a plain file: {found}")
    return found


PROJECT_ROOT = Path(__file__).resolve().parents[2]
IN_CHECKOUT = (PROJECT_ROOT / "pyproject.toml").is_file() and (PROJECT_ROOT / "jobs" / "data").is_dir()


def _default_data_dir() -> Path:
    if "PRESSTRUST_DATA_DIR" in os.environ:
        return Path(os.environ["PRESSTRUST_DATA_DIR"])
    if IN_CHECKOUT:
        return PROJECT_ROOT / "data"
    xdg = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(xdg) / "presstrust"


DATA_DIR = _default_data_dir()
DEFAULT_DB = DATA_DIR / "presstrust.duckdb"
SHIPPED_DIR = package_data("jobs", "data")
SAMPLE_DIR = SHIPPED_DIR / "sample"
ALIASES_FILE = SHIPPED_DIR / "outlet_aliases.csv"
OWNERS_FILE = SHIPPED_DIR / "outlet_owners.csv"
PLATFORMS_FILE = SHIPPED_DIR / "platform_domains.txt"
LABELS_FILE = SHIPPED_DIR / "labels" / "lin2023_domain_pc1.csv"
