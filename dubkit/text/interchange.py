"""Text in files other tools open: CSV cells spreadsheets show as text, and XML text.

A cell that starts with =, +, -, @, tab or CR is a formula to Excel and LibreOffice (CSV
injection, OWASP), so CSV writers put an apostrophe before it, the mark spreadsheets
themselves use for "this is text", and CSV readers take it off again: export then import
gives back the same text. XML 1.0 cannot carry some characters at all, even escaped.
"""

from __future__ import annotations

import re

# A formula start, after any apostrophes: those get one more, so that reading back is exact.
_FORMULA = re.compile("'*[=+\\-@\t\r]")
# A plain number such as -5 runs nothing, and a spreadsheet should still read it as one.
_NUMBER = re.compile(r"[-+]?[0-9]+(?:\.[0-9]+)?")
# C0 controls but tab, LF and CR; U+FFFE and U+FFFF; lone surrogates (UTF-8 cannot hold them).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def neutralise_formula(text: str) -> str:
    """`text` as a CSV cell no spreadsheet runs: an apostrophe before a formula start."""
    if _FORMULA.match(text) and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


def restore_formula(cell: str) -> str:
    """The text `neutralise_formula` was given: one apostrophe off a formula start (so a
    cell typed as '=x in a spreadsheet reads as =x, and 'tis stays 'tis)."""
    if cell.startswith("'") and _FORMULA.match(cell, 1):
        return cell[1:]
    return cell


def xml_text(text: str) -> str:
    """`text` less the characters XML 1.0 forbids (https://www.w3.org/TR/xml/#charsets):
    no escape can carry them, and one of them makes the whole file unreadable."""
    return _NOT_XML.sub("", text)
