"""External text (file names, glossary lines, package metadata) made safe to print or log on
one line: control characters are shown as escapes, everything else as written."""

from __future__ import annotations

import re

# C0 and C1 controls, DEL, and the Unicode line and paragraph separators: each could start a
# new line, move the cursor or recolour a terminal. The bidi embeddings and overrides
# (U+202A-U+202E) can show a name reversed ("txt.exe" as "exe.txt"): escaped too. The bidi
# marks and isolates dubkit itself puts around Latin runs in Urdu (U+200E, U+200F,
# U+2066-U+2069) are kept.
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e]")


def one_line(text: str) -> str:
    """`text` with every control character escaped: 'a\\nb' prints as a, backslash, n, b."""
    return _CONTROLS.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)
