"""Text from articles and input files made safe to print on a terminal.

Article titles and texts are hostile input: an ESC sequence in a title could clear the screen, set the window
title or plant an OSC-8 link when `explain` prints it. Every control character is shown as a visible stand-in
of the same length (one character for one), so evidence offsets into the text stay right:

- C0 controls and DEL become their Unicode "control pictures" (ESC -> U+241B, BEL -> U+2407, DEL -> U+2421);
  line feed and tab are kept where a text may span lines (`keep`);
- C1 controls (U+0080-U+009F) and the bidirectional overrides and isolates (U+202A-U+202E, U+2066-U+2069,
  "Trojan Source") become U+FFFD.
"""

from __future__ import annotations

import re

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
