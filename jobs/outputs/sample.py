"""The embedded sample corpus (package data, jobs/data/sample/PROVENANCE.md) copied out of the package."""

from __future__ import annotations

import shutil
from pathlib import Path

from jobs.infra import paths

SAMPLE_SUFFIXES = {".parquet", ".jsonl", ".md"}


class SampleExists(FileExistsError):
    """A file of the sample is already in the destination (and overwriting was not asked for)."""


def copy_sample(dest: Path, *, force: bool = False) -> list[Path]:
    """Copy the sample's corpus files and provenance note into `dest` (created); returns the files written."""
    files = sorted(p for p in paths.SAMPLE_DIR.iterdir() if p.is_file() and p.suffix in SAMPLE_SUFFIXES)
    clashes = [dest / p.name for p in files if (dest / p.name).exists()]
    if clashes and not force:
        raise SampleExists(f"{clashes[0]} exists: pass --force to overwrite the sample's files in {dest}")
    dest.mkdir(parents=True, exist_ok=True)
    for path in files:
        shutil.copyfile(path, dest / path.name)
    return [dest / p.name for p in files]
