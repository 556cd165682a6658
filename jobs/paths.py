"""Where presstrust finds its shipped data (sample, labels, aliases, lexicons) and its default database."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = Path(os.environ.get("PRESSTRUST_DATA_DIR", PROJECT_ROOT / "data"))
DEFAULT_DB = DATA_DIR / "presstrust.duckdb"
SAMPLE_DIR = DATA_DIR / "sample"
ALIASES_FILE = DATA_DIR / "outlet_aliases.csv"
PLATFORMS_FILE = DATA_DIR / "platform_domains.txt"
LABELS_FILE = DATA_DIR / "labels" / "lin2023_domain_pc1.csv"
