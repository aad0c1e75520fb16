"""External text (file names, glossary lines, package metadata) made safe to print or log on
one line: control characters are shown as escapes, everything else as written."""

from __future__ import annotations

import json
import re
from typing import Any

# C0 and C1 controls, DEL, and the Unicode line and paragraph separators: each could start a
# new line, move the cursor or recolour a terminal. The bidi embeddings and overrides
# (U+202A-U+202E) can show a name reversed ("txt.exe" as "exe.txt"): escaped too. The bidi
# marks and isolates dubkit itself puts around Latin runs in Urdu (U+200E, U+200F,
# U+2066-U+2069) are kept.
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e]")


def one_line(text: str) -> str:
    """`text` with every control character escaped: 'a\\nb' prints as a, backslash, n, b."""
    return _CONTROLS.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


# A lone surrogate: what Python's surrogateescape makes of a byte of a file name that is not
# UTF-8 (b"ep\xff.wav" is "ep\udcff.wav"). No UTF-8 file or stream can hold one.
_SURROGATE = re.compile("[\ud800-\udfff]")


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else f"\\u{code:04x}"


def display_text(text: str) -> str:
    """`text` with each undecodable byte of a file name in it written \\xNN, as
    dubkit.fsutil.display_path writes names: text made from a name (a message, a title, a
    stem) that must go into a UTF-8 file, JSON or a terminal."""
    return _SURROGATE.sub(_escaped, text)


def render_json(doc: Any) -> str:
    """A dubkit JSON document (artefacts, --json summaries): UTF-8-safe, indented, one final
    newline. A name that reached it unescaped is written as display_text writes it, so the
    document is always whole and valid rather than failing to encode half-way."""
    text = json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
    # Inside a JSON string: the escape's backslash must itself be escaped.
    return _SURROGATE.sub(lambda m: _escaped(m).replace("\\", "\\\\"), text)
