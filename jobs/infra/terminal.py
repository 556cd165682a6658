"""Text from articles and input files made safe to print on a terminal.

Article titles and texts are hostile input: an ESC sequence in a title could clear the screen, set the window
title or plant an OSC-8 link when `explain` prints it. Every control character is shown as a visible stand-in
of the same length (one character for one), so evidence offsets into the text stay right:

- C0 controls and DEL become their Unicode "control pictures" (ESC -> U+241B, BEL -> U+2407, DEL -> U+2421);
  line feed and tab are kept where a text may span lines (`keep`);
- C1 controls (U+0080-U+009F) and the bidirectional overrides and isolates (U+202A-U+202E, U+2066-U+2069,
  "Trojan Source") become U+FFFD.

It also holds the progress hook every long stage reports to (`progress`, `advance`), shown only on a terminal.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.console import Console

REPLACEMENT = "\ufffd"
_UNSAFE = re.compile("[\x00-\x1f\x7f\x80-\x9f\u202a-\u202e\u2066-\u2069]")


def _stand_in(char: str) -> str:
    code = ord(char)
    if code < 0x20:
        return chr(0x2400 + code)
    if code == 0x7F:
        return "\u2421"
    return REPLACEMENT


def visible(text: str, *, keep: str = "") -> str:
    """`text` with every control character (except those in `keep`) replaced by a visible stand-in, 1:1."""
    return _UNSAFE.sub(lambda m: m.group(0) if m.group(0) in keep else _stand_in(m.group(0)), text)


# ----------------------------------------------------------------------------------------------------------
# Progress: one display per long stage, on stderr, only on a terminal (never under --quiet or JSON logs)
# ----------------------------------------------------------------------------------------------------------

_ACTIVE: list[Any] = []  # [(rich Progress, task id, unit)] of the stage running now; empty when none is shown


def progress_shown() -> bool:
    """Whether a progress display would be shown: stderr is a terminal, and neither --quiet nor JSON logs."""
    from jobs.infra.logs import text_output

    return sys.stderr.isatty() and text_output()


@contextmanager
def progress(stage: str, *, unit: str = "articles", console: Console | None = None) -> Iterator[None]:
    """While the block runs, show `stage [bar] done/total unit elapsed` on stderr; stages report with advance().

    A no-op off a terminal (cron, pipes, tests) unless `console` is given; nested stages keep the outer display.
    """
    if _ACTIVE or (console is None and not progress_shown()):
        yield
        return
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
    from rich.progress import Progress as RichProgress

    bar = RichProgress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[unit]}"),
        TimeElapsedColumn(),
        console=console or Console(stderr=True),
        transient=True,
    )
    task = bar.add_task(stage, total=None, unit=unit)
    _ACTIVE.append((bar, task))
    bar.start()
    try:
        yield
    finally:
        bar.stop()
        _ACTIVE.clear()


def advance(done: int, total: int | None = None, *, unit: str | None = None) -> None:
    """Report the running stage's progress: `done` rows or articles of `total` (None: not known)."""
    if not _ACTIVE:
        return
    bar, task = _ACTIVE[-1]
    fields = {} if unit is None else {"unit": unit}
    bar.update(task, completed=done, total=total, **fields)


def estimated_records(files: Sequence[Path]) -> int | None:
    """Records in these input files, for the ingest progress display: Parquet from its metadata, uncompressed
    JSONL/CSV/TSV by counting lines; None when any file's count is unknown or no display is shown."""
    if not _ACTIVE:
        return None
    total = 0
    for path in files:
        name = path.name.lower()
        try:
            if name.endswith(".parquet"):
                import pyarrow.parquet as pq

                total += pq.ParquetFile(path).metadata.num_rows
            elif name.endswith((".jsonl", ".ndjson", ".csv", ".tsv")):
                with open(path, "rb") as handle:
                    lines = sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))
                total += lines - (0 if name.endswith((".jsonl", ".ndjson")) else 1)
            else:
                return None
        except OSError:
            return None
    return total
