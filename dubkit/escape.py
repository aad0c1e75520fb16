"""External text (file names, glossary lines, package metadata) made safe to print or log on
one line: control characters are shown as escapes, everything else as written."""

from __future__ import annotations

import re

# C0 and C1 controls, DEL, and the Unicode line and paragraph separators: each could start a
# new line, move the cursor or recolour a terminal. Bidi marks (Urdu needs them) are kept.
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def one_line(text: str) -> str:
    """`text` with every control character escaped: 'a\\nb' prints as a, backslash, n, b."""
    return _CONTROLS.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)
