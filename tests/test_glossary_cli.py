"""`dubkit glossary ...` end to end through typer's CliRunner: `check` messages against golden
files, `--fix` and `add` leaving every other byte alone, `show`, `coverage`, `export` and
`import`, and `translate` / `run` refusing a broken glossary before anything else.

Golden files live in tests/golden/glossary-check/ (see tests/golden/README.md); regenerate
them with DUBKIT_REGEN_GOLDEN=1 and review the diff.
"""

from __future__ import annotations

import ast
import csv
import functools
import io
import json
import os
import random
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from dubkit.cli import app
from dubkit.glossary.terms import Glossary, Term, parse_glossary
from tests.conftest import CPEC

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden" / "glossary-check"
REGEN = os.environ.get("DUBKIT_REGEN_GOLDEN") == "1"

# rich tables (glossary show) are as wide as COLUMNS; wide enough that no cell is cut.
runner = CliRunner(env={"COLUMNS": "250"})

# Characters that look alike on screen: named, so the tests say which one they mean.
ARABIC_YEH, URDU_YEH = "\u064a", "\u06cc"  # ي → ی
ARABIC_KAF, URDU_KAF = "\u0643", "\u06a9"  # ك → ک
ARABIC_HEH, GOL_HE = "\u0647", "\u06c1"  # ه → ہ
ZWJ = "\u200d"
ARABIC_INDIC_2026, URDU_2026 = "\u0662\u0660\u0662\u0666", "\u06f2\u06f0\u06f2\u06f6"


def invoke(*args: str) -> Any:
    return runner.invoke(app, list(args))


def one_error_line(result: Any) -> str:
    """The single `error: ...` line a failing command writes on stderr."""
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), lines[0]
    return lines[0]


def summary(result: Any) -> str:
    """The last stderr line: `glossary check`'s summary, `add`'s or `import`'s report."""
    return result.stderr.splitlines()[-1]


def parse(path: Path) -> Glossary:
    glossary, _tree, issues = parse_glossary(path.read_text(encoding="utf-8"), path.name)
    assert glossary is not None, issues
    assert issues == []
    return glossary


@functools.cache
def shipped_terms() -> tuple[Term, ...]:
    """The terms of glossaries/cpec-media.yaml, parsed once (the tests compare with them)."""
    return tuple(parse(CPEC).terms)


# ------------------------------------------------------------------- check: golden files

# case -> the files `dubkit glossary check` is given, relative to GOLDEN
CASES: dict[str, list[str]] = {
    "yaml-syntax": ["yaml-syntax.yaml"],
    "yaml-indent": ["yaml-indent.yaml"],
    "schema": ["schema.yaml"],
    "schema-version": ["schema-version.yaml"],
    "missing-ur": ["missing-ur.yaml"],
    "orthography": ["orthography.yaml"],
    "fixable": ["fixable.yaml"],
    "warnings": ["warnings.yaml"],
    "conflict": ["conflict-a.yaml", "conflict-b.yaml", "conflict-episode.yaml"],
}

KNOWN_BUGS: dict[str, str] = {}  # CASE -> reason: a strict xfail with a hand-written .expected


def _case(name: str) -> Any:
    if name in KNOWN_BUGS:
        return pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[name]))
    return name


@pytest.mark.parametrize("case", [_case(c) for c in CASES])
def test_check_golden(case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(GOLDEN)
    result = invoke("glossary", "check", *CASES[case])
    expected_file = GOLDEN / f"{case}.expected"
    if REGEN and case not in KNOWN_BUGS:
        expected_file.write_text(result.stdout, encoding="utf-8", newline="\n")
    expected = expected_file.read_text(encoding="utf-8")
    assert result.stdout == expected
    errors = sum(": error: " in line for line in expected.splitlines())
    warnings = sum(": warning: " in line for line in expected.splitlines())
    assert result.exit_code == (1 if errors else 0), result.output
    assert f": {errors} error(s), {warnings} warning(s)" in summary(result)
    assert summary(result).startswith(f"{len(CASES[case])} file(s), ")


def test_every_case_has_an_expected_file_and_every_input_a_case() -> None:
    inputs = {p.name for p in GOLDEN.glob("*.yaml")}
    assert inputs == {f for files in CASES.values() for f in files}
    assert {p.stem for p in GOLDEN.glob("*.expected")} == set(CASES)


_MESSAGE = re.compile(
    r"(?P<file>[\w.-]+\.yaml):(?P<line>\d+):(?P<col>\d+): (?P<severity>error|warning): "
    r"(?P<message>.+) \[(?P<code>[a-z-]+)\]"
)


def _expected_messages() -> list[tuple[str, re.Match[str]]]:
    out = []
    for case in CASES:
        for line in (GOLDEN / f"{case}.expected").read_text(encoding="utf-8").splitlines():
            match = _MESSAGE.fullmatch(line)
            assert match, f"{case}.expected: not FILE:LINE:COL: severity: message [code]: {line}"
            out.append((case, match))
    return out


def test_expected_files_point_at_the_value() -> None:
    """Review of the golden files: every message names a file of its case and a position in
    it; where the message quotes a value, that value (or its opening quote) is at LINE:COL;
    a schema message about `key` points just after `key: `."""
    checked = 0
    for case, m in _expected_messages():
        assert m["file"] in CASES[case]
        lines = (GOLDEN / m["file"]).read_text(encoding="utf-8").splitlines()
        row, col = int(m["line"]), int(m["col"])
        assert 1 <= row <= len(lines) + 1, m.group(0)
        if m["code"] == "yaml":
            continue  # where the parser noticed, not a value
        at = lines[row - 1][col - 1 :]
        quoted = re.match(r"'(?:[^'\\]|\\.)*'", m["message"])
        if quoted and m["code"] not in ("missing-ur",):
            value = ast.literal_eval(quoted.group(0))
            assert at.lstrip("'\"").startswith(value), (m.group(0), at)
            checked += 1
        elif m["code"] == "schema" and "required field is missing" not in m["message"]:
            key = m["message"].split(":")[0].split(".")[-1]
            assert lines[row - 1][: col - 1].endswith(f"{key}: "), m.group(0)
            checked += 1
    assert checked >= 20


def test_positions_spot_checked_by_hand() -> None:
    """A few positions counted by hand in the inputs, independent of the message format."""
    ortho = (GOLDEN / "orthography.yaml").read_text(encoding="utf-8").splitlines()
    assert ortho[6] == f"    ur: ش{ARABIC_YEH} جن پنگ"  # orthography.expected: 7:9
    assert ortho[33].index("經濟走廊") == 21  # 34:22, inside a flow list
    schema = (GOLDEN / "schema.yaml").read_text(encoding="utf-8").splitlines()
    assert schema[11].index("26/11/2026") == 14  # 12:15
    indent = (GOLDEN / "yaml-indent.yaml").read_text(encoding="utf-8").splitlines()
    assert indent[5].index(":") == 7  # 6:8, the colon the parser rejects
    expected = (GOLDEN / "orthography.expected").read_text(encoding="utf-8")
    assert "orthography.yaml:7:9: error: " in expected
    assert "orthography.yaml:34:22: error: '經濟走廊' " in expected
    schema_expected = (GOLDEN / "schema.expected").read_text(encoding="utf-8")
    assert "schema.yaml:12:15: error: terms.1.approved: " in schema_expected
    indent_expected = (GOLDEN / "yaml-indent.expected").read_text(encoding="utf-8")
    assert indent_expected.startswith("yaml-indent.yaml:6:8: error: invalid YAML")


def test_conflicts_exit_codes(monkeypatch: pytest.MonkeyPatch) -> None:
    """A same-scope disagreement is an error,
    an identical repeat and an episode override are warnings, and warnings alone exit 0."""
    monkeypatch.chdir(GOLDEN)
    both = invoke("glossary", "check", "conflict-a.yaml", "conflict-b.yaml")
    assert both.exit_code == 1
    codes = sorted(re.findall(r"\[([a-z-]+)\]$", both.stdout, re.M))
    assert codes == ["conflict", "conflict", "duplicate"]
    override = invoke("glossary", "check", "conflict-a.yaml", "conflict-episode.yaml")
    assert override.exit_code == 0, override.output
    assert override.stdout.count("\n") == 1
    assert "[override]" in override.stdout
    assert summary(override) == "2 file(s), 4 terms: 0 error(s), 1 warning(s)"


def test_check_missing_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    result = invoke("glossary", "check", "nowhere.yaml")
    assert result.exit_code == 1
    assert result.stdout == "nowhere.yaml:1:1: error: no such glossary file [missing]\n"


def test_impossible_date_is_a_message_not_a_crash(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("date.yaml").write_text(
        'name: d\nversion: "1"\nterms:\n  - zh: 瓜达尔\n    ur: گوادر\n    approved: 2026-13-45\n',
        encoding="utf-8",
    )
    result = invoke("glossary", "check", "date.yaml")
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.stdout.startswith("date.yaml:6:15: error: ")


def test_quoted_impossible_date_is_an_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("date.yaml").write_text(
        'name: d\nversion: "1"\nterms:\n  - zh: 瓜达尔\n    ur: گوادر\n'
        '    approved: "2026-13-45"\n',
        encoding="utf-8",
    )
    result = invoke("glossary", "check", "date.yaml")
    assert result.exit_code == 1
    assert "date.yaml:6:15: error: " in result.stdout


def test_conflict_message_names_what_differs(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("en.yaml").write_text(
        'name: e\nversion: "1"\nterms:\n'
        "  - zh: 北京\n    ur: بیجنگ\n    en: Beijing\n"
        "  - zh: 北京\n    ur: بیجنگ\n    en: Peking\n",
        encoding="utf-8",
    )
    result = invoke("glossary", "check", "en.yaml")
    assert result.exit_code == 1
    assert "Peking" in result.stdout and "Beijing" in result.stdout


def test_schema_messages_do_not_name_internal_classes(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("item.yaml").write_text(
        'name: i\nversion: "1"\nterms:\n  - just a string\n', encoding="utf-8"
    )
    result = invoke("glossary", "check", "item.yaml")
    assert result.stdout.startswith("item.yaml:4:5: error: terms.0: ")
    assert "Model" not in result.stdout


def test_missing_include_names_the_including_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("series.yaml").write_text(
        'name: s\nversion: "1"\nscope: series\nincludes: [nowhere.yaml]\nterms: []\n',
        encoding="utf-8",
    )
    result = invoke("glossary", "check", "series.yaml")
    assert result.exit_code == 1
    assert result.stdout.startswith("series.yaml:4:")


# ------------------------------------------------------------------------------ check --fix


def test_fix_changes_the_fixable_values_and_nothing_else(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    shutil.copyfile(GOLDEN / "fixable.yaml", tmp_path / "fixable.yaml")
    monkeypatch.chdir(tmp_path)
    before = Path("fixable.yaml").read_bytes().decode("utf-8").splitlines(keepends=True)

    result = invoke("glossary", "check", "--fix", "fixable.yaml")

    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "fixable.yaml:50:9: warning: 'CGTN': Latin letters in an Urdu rendering "
        "(set do_not_translate: true if the term is kept as it is) [latin]\n"
    )
    assert summary(result) == "1 file(s), 8 terms: 0 error(s), 1 warning(s), 9 fixed"
    after = Path("fixable.yaml").read_bytes().decode("utf-8").splitlines(keepends=True)
    assert len(after) == len(before)
    # line number -> (text before, text after) on that line; every other line is identical
    fixes = {
        14: (ARABIC_YEH, URDU_YEH),
        22: (ARABIC_KAF, URDU_KAF),
        26: (f'"لا{ARABIC_HEH}ور  "', f'"لا{GOL_HE}ور"'),
        32: (ARABIC_INDIC_2026, URDU_2026),
        36: ('"  چائنا  ریڈیو انٹرنیشنل "', '"چائنا ریڈیو انٹرنیشنل"'),
        40: (f"پاک{ZWJ} ", "پاک "),
        42: ("中巴經濟走廊", "中巴经济走廊"),
        45: ("經濟走廊", "经济走廊"),
    }
    changed = {n for n, (old, new) in enumerate(zip(before, after, strict=True), 1) if old != new}
    assert changed == set(fixes)
    for n, (old, new) in fixes.items():
        assert before[n - 1].count(old) == 1, (n, before[n - 1])
        assert after[n - 1] == before[n - 1].replace(old, new), n
    assert after[13] == f"    ur: ش{URDU_YEH} جن پنگ        # Arabic yeh\n"  # comment kept
    assert after[21] == f"    ur: '{URDU_KAF}راچی'\n"  # single quotes kept

    glossary = parse(Path("fixable.yaml"))
    ur = {t.zh: t.ur for t in glossary.terms}
    assert ur["习近平"] == f"ش{URDU_YEH} جن پنگ"
    assert ur["卡拉奇"] == f"{URDU_KAF}راچی"
    assert ur["拉合尔"] == f"لا{GOL_HE}ور"
    assert ur["二〇二六年"] == f"سال {URDU_2026}"
    assert ur["中国国际广播电台"] == "چائنا ریڈیو انٹرنیشنل"
    assert ur["中巴友谊"] == "پاک چین دوستی"
    assert ur["中巴经济走廊"] == "چین پاکستان اقتصادی راہداری"
    assert next(t for t in glossary.terms if t.zh == "中巴经济走廊").variants == (
        "中巴走廊",
        "经济走廊",
    )
    assert next(t for t in glossary.terms if t.zh == "习近平").note == (
        "A block-scalar note, which --fix leaves as it is, over two lines."
    )

    again = invoke("glossary", "check", "fixable.yaml")
    assert again.exit_code == 0
    assert again.stdout == result.stdout  # only the Latin warning, which has no safe fix
    assert summary(again) == "1 file(s), 8 terms: 0 error(s), 1 warning(s)"


def test_fix_without_fixable_issues_leaves_the_file_alone(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    shutil.copyfile(GOLDEN / "missing-ur.yaml", tmp_path / "missing-ur.yaml")
    monkeypatch.chdir(tmp_path)
    stat = Path("missing-ur.yaml").stat()
    result = invoke("glossary", "check", "--fix", "missing-ur.yaml")
    assert result.exit_code == 1
    assert summary(result).endswith(", 0 fixed")
    assert Path("missing-ur.yaml").read_bytes() == (GOLDEN / "missing-ur.yaml").read_bytes()
    assert Path("missing-ur.yaml").stat().st_mtime_ns == stat.st_mtime_ns


@pytest.mark.parametrize(
    ("line", "fixed"),
    [
        (
            f'    ur: "سال {ARABIC_INDIC_2026} {ARABIC_KAF}ا"\n',
            f'    ur: "سال {URDU_2026} {URDU_KAF}ا"\n',
        ),
        ('  - zh: "中巴經濟  走廊"\n', '  - zh: "中巴经济 走廊"\n'),
    ],
    ids=["digits+lookalike", "traditional+spaces"],
)
def test_fix_composes_fixes_on_one_value(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, line: str, fixed: str
) -> None:
    monkeypatch.chdir(tmp_path)
    term = line + "    ur: بیجنگ\n" if "zh:" in line else "  - zh: 二〇二六年\n" + line
    original = 'name: f\nversion: "1"\nterms:\n' + term
    Path("f.yaml").write_text(original, encoding="utf-8")
    result = invoke("glossary", "check", "--fix", "f.yaml")
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert Path("f.yaml").read_text(encoding="utf-8") == original.replace(line, fixed)


@pytest.mark.parametrize("command", ["fix", "add"])
def test_fix_and_add_keep_bom_and_crlf(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, command: str
) -> None:
    monkeypatch.chdir(tmp_path)
    lines = ["name: w", 'version: "1"', "terms:", "  - zh: 北京", f"    ur: ب{ARABIC_YEH}جنگ"]
    original = ("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8")
    Path("w.yaml").write_bytes(original)
    if command == "fix":
        result = invoke("glossary", "check", "--fix", "w.yaml")
        expected = original.replace(ARABIC_YEH.encode(), URDU_YEH.encode())
        assert Path("w.yaml").read_bytes() == expected
    else:
        result = invoke("glossary", "add", "w.yaml", "--zh", "新词", "--ur", "نیا لفظ")
        new = Path("w.yaml").read_bytes()
        assert new.startswith(original)
        assert b"\n" not in new.replace(b"\r\n", b"")
    assert result.exit_code == 0, result.output


# ------------------------------------------------------------------------------------- add

ADD_ARGS = [
    "--zh", "新词", "--ur", "نیا لفظ", "--en", "new word", "--variant", "新词语",
    "--variant", "新字词", "--misheard", "新次", "--short", "نیا", "--forbidden", "نئی بات",
    "--note", "Added by the test: kept as written.", "--source", "test suite",
    "--approved", "2026-11-27",
]  # fmt: skip
ADDED_BLOCK = (
    "  - zh: 新词\n"
    "    variants: [新词语, 新字词]\n"
    "    misheard: [新次]\n"
    "    en: new word\n"
    "    ur: نیا لفظ\n"
    "    short: نیا\n"
    "    type: term\n"
    "    forbidden: [نئی بات]\n"
    '    note: "Added by the test: kept as written."\n'
    "    source: test suite\n"
    '    approved: "2026-11-27"\n'
)


def assert_added_term(term: Term) -> None:
    assert (term.zh, term.ur, term.en, term.short) == ("新词", "نیا لفظ", "new word", "نیا")
    assert term.variants == ("新词语", "新字词")
    assert term.misheard == ("新次",)
    assert term.forbidden == ("نئی بات",)
    assert (term.type, term.do_not_translate) == ("term", False)
    assert term.note == "Added by the test: kept as written."
    assert (term.source, term.approved) == ("test suite", "2026-11-27")


def test_add_to_cpec_media_keeps_every_byte(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    shutil.copyfile(CPEC, tmp_path / "cpec-media.yaml")
    monkeypatch.chdir(tmp_path)
    original = Path("cpec-media.yaml").read_bytes()

    result = invoke("glossary", "add", "cpec-media.yaml", *ADD_ARGS)

    assert result.exit_code == 0, result.output
    assert result.stderr == "cpec-media.yaml: added 新词\n"
    new = Path("cpec-media.yaml").read_bytes()
    assert new.startswith(original)  # comments, blank lines and quoting untouched
    assert new[len(original) :].decode("utf-8") == ADDED_BLOCK
    glossary = parse(Path("cpec-media.yaml"))
    assert len(glossary.terms) == len(shipped_terms()) + 1
    assert_added_term(glossary.terms[-1])
    assert glossary.terms[-1].line == original.count(b"\n") + 1

    check = invoke("glossary", "check", "cpec-media.yaml")
    assert check.exit_code == 0, check.output
    assert summary(check).endswith(": 0 error(s), 0 warning(s)")

    again = invoke("glossary", "add", "cpec-media.yaml", "--zh", "新词", "--ur", "دوسرا")
    assert again.exit_code == 1
    assert "'新词' is already in this glossary" in one_error_line(again)
    clash = invoke("glossary", "add", "cpec-media.yaml", "--zh", "新新", "--variant", "中巴走廊")
    assert clash.exit_code == 1
    assert "'中巴走廊' is already in this glossary" in one_error_line(clash)
    assert Path("cpec-media.yaml").read_bytes() == original + ADDED_BLOCK.encode("utf-8")


KEY_AFTER_HEAD = """\
# A small glossary whose terms are followed by another key.
name: small
version: "1"
scope: series
terms:
  - zh: 瓜达尔
    ur: گوادر   # the port city
    type: place

"""
KEY_AFTER_TAIL = """\
# Other glossaries this one builds on.
includes: []
"""


def test_add_before_a_key_after_terms(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    Path("small.yaml").write_text(KEY_AFTER_HEAD + KEY_AFTER_TAIL, encoding="utf-8")
    result = invoke("glossary", "add", "small.yaml", *ADD_ARGS)
    assert result.exit_code == 0, result.output
    new = Path("small.yaml").read_text(encoding="utf-8")
    # everything before the insertion point and everything after it is as it was
    assert new == KEY_AFTER_HEAD + ADDED_BLOCK + KEY_AFTER_TAIL
    glossary = parse(Path("small.yaml"))
    assert [t.zh for t in glossary.terms] == ["瓜达尔", "新词"]
    assert_added_term(glossary.terms[1])
    assert glossary.includes == ()


def test_add_to_an_empty_list(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    head = '# Terms of one episode, none yet.\nname: ep01\nversion: "1"\nscope: episode\n'
    Path("ep01.yaml").write_text(head + "terms: []\n", encoding="utf-8")
    result = invoke("glossary", "add", "ep01.yaml", *ADD_ARGS)
    assert result.exit_code == 0, result.output
    assert Path("ep01.yaml").read_text(encoding="utf-8") == head + "terms:\n" + ADDED_BLOCK
    glossary = parse(Path("ep01.yaml"))
    assert glossary.scope == "episode"
    assert_added_term(glossary.terms[0])


def test_add_to_a_file_without_terms(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    head = 'name: ep02\nversion: "1"  # first draft\n'
    Path("ep02.yaml").write_text(head, encoding="utf-8")
    result = invoke("glossary", "add", "ep02.yaml", "--zh", "瓜达尔", "--ur", "گوادر")
    assert result.exit_code == 0, result.output
    new = Path("ep02.yaml").read_text(encoding="utf-8")
    assert new == head + "terms:\n  - zh: 瓜达尔\n    ur: گوادر\n    type: term\n"


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--note", "- starts with a dash"),
        ("--note", "Title: not a name"),
        ("--note", "ends with a colon:"),
        ("--note", "# not a comment"),
        ("--note", "text #not a comment"),
        ("--note", "[brackets] and {braces}"),
        ("--note", "'single' and \"double\" quotes"),
        ("--note", "*star &anchor !tag %percent @at `tick | pipe > fold"),
        pytest.param(
            "--note",
            "two\nlines",
        ),
        ("--en", "yes"),
        ("--en", "No"),
        ("--en", "on"),
        ("--en", "null"),
        ("--en", "~"),
        ("--en", "1.0"),
        ("--en", "1e3"),
        ("--source", "2026-11-26"),
        ("--source", "  edge spaces "),
        ("--short", "?"),
        ("--forbidden", "yes"),
        ("--forbidden", "- dash"),
        ("--forbidden", "a: b"),
        ("--forbidden", "[x]"),
        pytest.param(
            "--forbidden",
            "چین, پاکستان",
        ),
        pytest.param(
            "--variant",
            "新词,新语",
        ),
        ("--source", "2026-11-26 10:00:00"),
        pytest.param(
            "--en",
            "0x1F",
        ),
    ],
)
def test_add_quotes_what_yaml_would_misread(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, option: str, value: str
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("q.yaml").write_text(
        'name: q\nversion: "1"\nterms:\n  - zh: 北京\n    ur: بیجنگ\n', encoding="utf-8"
    )
    result = invoke("glossary", "add", "q.yaml", "--zh", "新词", "--ur", "نیا", option, value)
    assert result.exit_code == 0, result.output
    term = parse(Path("q.yaml")).terms[-1]
    field = {"--variant": "variants", "--forbidden": "forbidden"}.get(option, option[2:])
    assert getattr(term, field) == ((value,) if field in ("variants", "forbidden") else value)


def test_add_refuses_an_invalid_entry(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    original = 'name: q\nversion: "1"\nterms:\n  - zh: 北京\n    ur: بیجنگ\n'
    Path("q.yaml").write_text(original, encoding="utf-8")
    bad_type = invoke("glossary", "add", "q.yaml", "--zh", "新词", "--ur", "نیا", "--type", "city")
    assert bad_type.exit_code == 1
    assert "nothing was written" in one_error_line(bad_type)
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: [\n", encoding="utf-8")
    refused = invoke("glossary", "add", "broken.yaml", "--zh", "新词", "--ur", "نیا")
    assert refused.exit_code == 1
    assert one_error_line(refused).startswith("error: broken.yaml:2:1: error: invalid YAML")
    assert Path("q.yaml").read_text(encoding="utf-8") == original
    assert broken.read_text(encoding="utf-8") == "name: [\n"


@pytest.mark.parametrize(
    ("extra", "rule"),
    [(["--variant", "新詞語"], "[traditional]"), (["--ur", f"{ARABIC_KAF}راچی"], "[lookalike]")],
    ids=["traditional-variant", "lookalike-ur"],
)
def test_add_refuses_what_check_would_call_an_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, extra: list[str], rule: str
) -> None:
    monkeypatch.chdir(tmp_path)
    original = 'name: q\nversion: "1"\nterms:\n  - zh: 北京\n    ur: بیجنگ\n'
    Path("q.yaml").write_text(original, encoding="utf-8")
    args = ["--zh", "新词", *(["--ur", "نیا لفظ"] if "--ur" not in extra else []), *extra]
    added = invoke("glossary", "add", "q.yaml", *args)
    assert added.exit_code == 1, added.output
    assert rule in added.output and "nothing was written" in added.output
    assert Path("q.yaml").read_text(encoding="utf-8") == original
    assert invoke("glossary", "check", "q.yaml").exit_code == 0


def test_add_follows_a_wider_dash_layout(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    original = 'name: w\nversion: "1"\nterms:\n    -   zh: 瓜达尔\n        ur: گوادر\n'
    Path("w.yaml").write_text(original, encoding="utf-8")
    result = invoke("glossary", "add", "w.yaml", "--zh", "新词", "--ur", "نیا")
    assert result.exit_code == 0, result.output
    new = Path("w.yaml").read_text(encoding="utf-8")
    assert new.startswith(original)
    assert [t.zh for t in parse(Path("w.yaml")).terms] == ["瓜达尔", "新词"]


def test_add_to_a_flow_style_list(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    original = 'name: f\nversion: "1"\nterms: [{zh: 北京, ur: بیجنگ}]\n'
    Path("f.yaml").write_text(original, encoding="utf-8")
    result = invoke("glossary", "add", "f.yaml", "--zh", "新词", "--ur", "نیا")
    assert result.exit_code == 1, result.output  # appending would rewrite the maintainer's file
    line = one_error_line(result)
    assert "[flow, list]" in line and "block list" in line
    assert Path("f.yaml").read_text(encoding="utf-8") == original


def test_add_to_an_empty_list_with_a_comment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("c.yaml").write_text('name: c\nversion: "1"\nterms: []   # none yet\n', encoding="utf-8")
    result = invoke("glossary", "add", "c.yaml", "--zh", "新词", "--ur", "نیا")
    assert result.exit_code == 0, result.output
    assert [t.zh for t in parse(Path("c.yaml")).terms] == ["新词"]


# ------------------------------------------------------------------------------------ show


def shown_terms(result: Any) -> list[str]:
    """The canonical zh (first column, before ' / ' variants) of `glossary show`'s table;
    rows whose last cell (FILE:LINE) is empty continue a wrapped row."""
    rows = [ln.split("│")[1:-1] for ln in result.stdout.splitlines() if ln.startswith("│")]
    return [cells[0].strip().split(" / ")[0] for cells in rows if cells[-1].strip()]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("瓜达尔", ["瓜达尔", "瓜达尔港"]),  # Chinese, as a substring
        ("央视", ["中央电视台"]),  # a variant
        ("曹淑民", ["曹淑敏"]),  # a mis-hearing
        ("بندرگاہ", ["瓜达尔港"]),  # Urdu
        ("سی پیک", ["中巴经济走廊"]),  # the short Urdu form
        ("GWADAR", ["瓜达尔", "瓜达尔港"]),  # English, any case
        ("xinhua", ["新华社"]),
        ("state news agency", ["巴基斯坦联合通讯社"]),  # a note
    ],
)
def test_show_finds_by_any_language(query: str, expected: list[str]) -> None:
    result = invoke("glossary", "show", str(CPEC), "--query", query)
    assert result.exit_code == 0, result.output
    assert shown_terms(result) == expected
    assert f"terms matching {query!r}" in result.stdout


def test_show_all_and_nothing() -> None:
    everything = invoke("glossary", "show", str(CPEC))
    assert everything.exit_code == 0
    assert len(shown_terms(everything)) == len(shipped_terms()) >= 48
    nothing = invoke("glossary", "show", str(CPEC), "-q", "不存在的词")
    assert nothing.exit_code == 1
    assert shown_terms(nothing) == []


def test_show_needs_a_valid_glossary(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(GOLDEN)
    result = invoke("glossary", "show", "orthography.yaml", "-q", "x")
    assert result.exit_code == 1
    line = one_error_line(result)
    assert line.startswith("error: orthography.yaml:7:9: ")
    assert "dubkit glossary check orthography.yaml" in line


# -------------------------------------------------------------------------------- coverage

EPISODE_SRT = """\
1
00:00:01,000 --> 00:00:03,000
中巴经济走廊建设进入新阶段

2
00:00:03,500 --> 00:00:05,000
瓜达尔港迎来第一艘货轮

3
00:00:05,500 --> 00:00:07,000
今天的天气很好

4
00:00:07,500 --> 00:00:09,000
中巴走廊连接瓜达尔和喀什
中巴经济走廊是旗舰项目
"""


# `glossary coverage` of EPISODE_SRT with cpec-media.yaml: zh, approved Urdu, count, cue
# numbers; in glossary order; 中巴走廊 counts as 中巴经济走廊; 瓜达尔港 (longest match) does not
# count as 瓜达尔
EPISODE_COVERAGE = (
    "瓜达尔\tگوادر\t1\t4\n"
    "瓜达尔港\tگوادر بندرگاہ\t1\t2\n"
    "喀什\tکاشغر\t1\t4\n"
    "中巴经济走廊\tچین پاکستان اقتصادی راہداری\t3\t1,4,4\n"
)


def test_coverage_of_an_srt(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    Path("ep.zh.srt").write_text(EPISODE_SRT, encoding="utf-8")
    result = invoke("glossary", "coverage", "ep.zh.srt", "--glossary", str(CPEC))
    assert result.exit_code == 0, result.output
    assert result.stdout == EPISODE_COVERAGE
    assert summary(result) == "ep.zh.srt: 4 of 48 terms occur (6 times in 4 cues)"

    as_json = invoke("glossary", "coverage", "ep.zh.srt", "-g", str(CPEC), "--json")
    assert as_json.exit_code == 0, as_json.output
    doc = json.loads(as_json.stdout)
    assert doc["episode"] == "ep.zh.srt"
    assert len(doc["terms"]) == 48
    used = {r["zh"]: (r["count"], r["units"]) for r in doc["terms"] if r["count"]}
    assert used == {
        "瓜达尔": (1, [4]),
        "瓜达尔港": (1, [2]),
        "喀什": (1, [4]),
        "中巴经济走廊": (3, [1, 4, 4]),
    }
    row = next(r for r in doc["terms"] if r["zh"] == "北京")
    assert row == {"zh": "北京", "ur": "بیجنگ", "count": 0, "units": []}


def test_coverage_of_an_asr_json(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    segments = ["新华社报道", "中新社和新华通讯社", "这部记录片在北京播出", "没有术语"]
    Path("ep.asr.json").write_text(
        json.dumps({"segments": [{"text": t} for t in segments]}, ensure_ascii=False),
        encoding="utf-8",
    )
    result = invoke("glossary", "coverage", "ep.asr.json", "-g", str(CPEC))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "新华社\tشنہوا\t2\t1,2",  # 新华通讯社 is a variant
        "中国新闻社\tچائنا نیوز سروس\t1\t2",  # 中新社 is a variant
        "北京\tبیجنگ\t1\t3",
        "纪录片\tدستاویزی فلم\t1\t3",  # 记录片 is a known mis-hearing
    ]
    assert summary(result) == "ep.asr.json: 4 of 48 terms occur (5 times in 4 segments)"
    doc = json.loads(
        invoke("glossary", "coverage", "ep.asr.json", "-g", str(CPEC), "--json").stdout
    )
    assert sum(r["count"] for r in doc["terms"]) == 5


def test_coverage_errors(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    Path("bad.asr.json").write_text('{"words": []}', encoding="utf-8")
    bad = invoke("glossary", "coverage", "bad.asr.json", "-g", str(CPEC))
    assert bad.exit_code == 1
    assert one_error_line(bad).startswith("error: bad.asr.json: not a dubkit asr.json")
    missing = invoke("glossary", "coverage", "nope.zh.srt", "-g", str(CPEC))
    assert missing.exit_code == 1
    assert "nope.zh.srt" in one_error_line(missing)
    no_glossary = invoke("glossary", "coverage", "bad.asr.json")
    assert no_glossary.exit_code == 1
    assert "--glossary" in one_error_line(no_glossary)


@pytest.mark.parametrize("kind", ["vtt", "ass"])
def test_coverage_of_webvtt_and_ass_as_of_the_srt(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, kind: str
) -> None:
    """Every subtitle file is read as dubkit reads subtitles (its one reader): the same
    cues, the same terms, whatever the format (the SRT's coverage is EPISODE_COVERAGE,
    test_coverage_of_an_srt's)."""
    from dubkit.subtitles.formats import write_subtitles
    from dubkit.subtitles.parse import parse_srt

    monkeypatch.chdir(tmp_path)
    cues = parse_srt(EPISODE_SRT, "ep.zh.srt").cues
    Path(f"ep.zh.{kind}").write_text(write_subtitles(cues, kind, language="zh"), "utf-8")
    other = invoke("glossary", "coverage", f"ep.zh.{kind}", "-g", str(CPEC))
    assert other.exit_code == 0, other.output
    assert other.stdout == EPISODE_COVERAGE
    assert summary(other) == f"ep.zh.{kind}: 4 of 48 terms occur (6 times in 4 cues)"


def test_coverage_of_a_file_that_is_no_subtitles_is_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("notes.txt").write_text("hello\nnot subtitles\n", encoding="utf-8")
    notes = invoke("glossary", "coverage", "notes.txt", "-g", str(CPEC))
    assert one_error_line(notes).startswith("error: notes.txt:1: text 'hello' before the first")
    Path("ep.gbk.srt").write_bytes(EPISODE_SRT.encode("gb18030"))
    gbk = invoke("glossary", "coverage", "ep.gbk.srt", "-g", str(CPEC))
    assert "pass --encoding gb18030" in one_error_line(gbk)
    given = invoke("glossary", "coverage", "ep.gbk.srt", "-g", str(CPEC), "--encoding", "gb18030")
    assert given.exit_code == 0, given.output
    assert summary(given) == "ep.gbk.srt: 4 of 48 terms occur (6 times in 4 cues)"


# ------------------------------------------------------------------------- export / import


def test_export_csv_and_tbx(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    terms = shipped_terms()
    assert len(terms) >= 48

    result = invoke("glossary", "export", str(CPEC), "-o", "terms.csv")
    assert result.exit_code == 0, result.output
    assert summary(result) == f"terms.csv: {len(terms)} terms"
    data = Path("terms.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbfzh,variants,")  # BOM for Excel
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert len(rows) == len(terms)
    assert [r["zh"] for r in rows] == [t.zh for t in terms]
    cpec = next(r for r in rows if r["zh"] == "中巴经济走廊")
    assert cpec["variants"] == "中巴走廊 | CPEC"
    assert cpec["ur"] == "چین پاکستان اقتصادی راہداری"
    assert (cpec["glossary"], cpec["scope"]) == ("cpec-media", "global")

    no_bom = invoke("glossary", "export", str(CPEC), "-o", "plain.csv", "--no-bom")
    assert no_bom.exit_code == 0
    assert Path("plain.csv").read_bytes() == data[3:]

    tbx = invoke("glossary", "export", str(CPEC), "-o", "terms.tbx")
    assert tbx.exit_code == 0, tbx.output
    root = ET.parse("terms.tbx").getroot()
    ns = {"t": "urn:iso:std:iso:30042:ed-2"}
    entries = root.findall(".//t:conceptEntry", ns)
    assert len(entries) == len(terms)
    lang = "{http://www.w3.org/XML/1998/namespace}lang"
    for entry, term in zip(entries, terms, strict=True):
        by_lang = {
            sec.get(lang): [t.text for t in sec.findall(".//t:term", ns)]
            for sec in entry.findall("t:langSec", ns)
        }
        assert by_lang["zh"][0] == term.zh
        assert by_lang["zh"][1:] == list(term.variants)  # misheard forms are not terms
        assert by_lang["ur"][0] == term.ur

    wrong = invoke("glossary", "export", str(CPEC), "-o", "terms.xlsx")
    assert wrong.exit_code == 1
    assert "choose a .csv or .tbx" in one_error_line(wrong)
    assert not Path("terms.xlsx").exists()


SMALL = """\
# A small series glossary; import adds to it.
name: small
version: "1"
scope: series
terms:
  # places
  - zh: 瓜达尔
    ur: گوادر   # the port city
    type: place
"""


def test_import_adds_new_terms_and_reports_the_rest(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("small.yaml").write_text(SMALL, encoding="utf-8")
    Path("new.csv").write_text(
        "\ufeffzh,ur,en,variants,type,note\r\n"
        '新词,نیا لفظ,new word,新词语 | 新字词,term,"A note: with a comma, and a colon"\r\n'
        "瓜达尔,گوادر,Gwadar,,place,\r\n"
        "喀什,کاشغر,Kashgar,,place,\r\n",
        encoding="utf-8",
    )
    result = invoke("glossary", "import", "new.csv", "--into", "small.yaml")
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [
        "skipped: small.yaml: '瓜达尔' is already in this glossary; edit that entry",
        "small.yaml: 2 added, 1 skipped",
    ]
    new = Path("small.yaml").read_text(encoding="utf-8")
    assert new.startswith(SMALL)  # comments kept, byte for byte
    glossary = parse(Path("small.yaml"))
    assert [t.zh for t in glossary.terms] == ["瓜达尔", "新词", "喀什"]
    added = glossary.terms[1]
    assert (added.ur, added.en, added.variants) == ("نیا لفظ", "new word", ("新词语", "新字词"))
    assert added.note == "A note: with a comma, and a colon"
    assert glossary.terms[2].type == "place"
    assert invoke("glossary", "check", "small.yaml").exit_code == 0

    again = invoke("glossary", "import", "new.csv", "--into", "small.yaml")
    assert again.exit_code == 1  # nothing added
    assert summary(again) == "small.yaml: 0 added, 3 skipped"
    assert Path("small.yaml").read_text(encoding="utf-8") == new


@pytest.mark.parametrize(
    ("content", "where"),
    [
        ('zh,ur\n新词,"unterminated\n', "bad.csv:2: not valid CSV"),
        ("zh,ur\n新词,نیا\n喀什,کاشغر,extra\n", "bad.csv:3: cell 3 has a value but no column"),
        ("zh,ur,type\n新词,نیا,city\n", "bad.csv:2: column 'type': 'city' is not a type"),
        ("urdu,en\nنیا,new\n", "bad.csv:1: unknown column 'urdu'"),
    ],
    ids=["unterminated-quote", "extra-cell", "bad-type", "unknown-column"],
)
def test_import_bad_csv_is_one_line_naming_the_row(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, content: str, where: str
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("small.yaml").write_text(SMALL, encoding="utf-8")
    Path("bad.csv").write_text(content, encoding="utf-8")
    result = invoke("glossary", "import", "bad.csv", "--into", "small.yaml")
    assert result.exit_code == 1
    assert one_error_line(result).startswith(f"error: {where}")
    assert Path("small.yaml").read_text(encoding="utf-8") == SMALL


RANDOM_BYTES = bytes(random.Random(13).randrange(256) for _ in range(4096))


@pytest.mark.parametrize(
    ("content", "where"),
    [
        (RANDOM_BYTES, "bad.csv:1: "),
        ("zh,ur\r\n中国,چ\x00ین\r\n".encode(), "bad.csv:2: a NUL byte"),
        ("zh,ur\r\n中国,چین\r\n".encode("utf-16"), "bad.csv:1: UTF-16"),
        (b"zh,ur\r\n\xe4\xb8,x\r\n", "bad.csv:2: not UTF-8"),
    ],
    ids=["random-bytes", "nul-byte", "utf-16", "invalid-utf-8"],
)
def test_import_of_binary_input_is_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, content: bytes, where: str
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("small.yaml").write_text(SMALL, encoding="utf-8")
    Path("bad.csv").write_bytes(content)
    result = invoke("glossary", "import", "bad.csv", "--into", "small.yaml")
    assert result.exit_code == 1, result.output
    assert one_error_line(result).startswith(f"error: {where}")
    assert Path("small.yaml").read_text(encoding="utf-8") == SMALL


def test_import_of_a_huge_file_is_one_line_without_reading_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from dubkit.glossary.exchange import MAX_CSV_BYTES

    monkeypatch.chdir(tmp_path)
    Path("small.yaml").write_text(SMALL, encoding="utf-8")
    with Path("huge.csv").open("wb") as stream:
        stream.write(b"zh,ur\r\n")
        stream.truncate(100 * MAX_CSV_BYTES)  # sparse: no disk used
    result = invoke("glossary", "import", "huge.csv", "--into", "small.yaml")
    assert result.exit_code == 1, result.output
    assert one_error_line(result).startswith(
        f"error: huge.csv: is {MAX_CSV_BYTES * 100:,} bytes, more than {MAX_CSV_BYTES:,}"
    )
    assert Path("small.yaml").read_text(encoding="utf-8") == SMALL


# --------------------------------------------------------- translate / run: checked first

SRT = "1\n00:00:01,000 --> 00:00:02,000\n中巴经济走廊\n"
BROKEN = 'name: broken\nversion: "1"\nterms:\n  - zh: 瓜达尔\n    ur: گوادر\n     en: Gwadar\n'


def _broken_glossary_line(result: Any) -> str:
    assert result.exit_code == 1, result.output
    line = one_error_line(result)
    assert "broken.yaml:6:8:" in line
    assert "dubkit glossary check broken.yaml" in line
    assert "route" not in line and "package" not in line and "model" not in line
    return line


def test_translate_refuses_a_broken_glossary_before_the_route(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("x.zh.srt").write_text(SRT, encoding="utf-8")
    Path("broken.yaml").write_text(BROKEN, encoding="utf-8")
    result = invoke("translate", "x.zh.srt", "-g", "broken.yaml", "-o", "out")
    _broken_glossary_line(result)
    assert not list(Path("out").glob("*.srt"))
    # the same with a glossary error that only lint finds, and through dubkit.toml
    shutil.copyfile(GOLDEN / "orthography.yaml", "ortho.yaml")
    Path("dubkit.toml").write_text('[glossary]\nfiles = ["ortho.yaml"]\n', encoding="utf-8")
    lint_error = invoke("translate", "x.zh.srt", "-o", "out")
    assert lint_error.exit_code == 1
    assert one_error_line(lint_error).startswith("error: ortho.yaml:7:9: ")


def test_translate_with_a_good_glossary_gets_to_the_route(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The contrast: with a clean glossary the (isolated, empty) package store is next."""
    monkeypatch.chdir(tmp_path)
    Path("x.zh.srt").write_text(SRT, encoding="utf-8")
    result = invoke("translate", "x.zh.srt", "-g", str(CPEC), "-o", "out")
    assert result.exit_code == 1
    line = one_error_line(result)
    assert "translation route" in line
    assert "cpec-media" not in line


def test_run_refuses_a_broken_glossary_before_the_route(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import dubkit.models.store

    monkeypatch.chdir(tmp_path)
    model = tmp_path / "model"
    model.mkdir()
    monkeypatch.setattr(dubkit.models.store, "resolve_model", lambda spec: ("whisper:base", model))
    Path("broken.yaml").write_text(BROKEN, encoding="utf-8")
    result = invoke("run", "x.wav", "-g", "broken.yaml", "-o", "out")
    _broken_glossary_line(result)


def test_run_refuses_a_broken_glossary_before_the_model(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DUBKIT_HOME", str(tmp_path / "empty-home"))
    Path("broken.yaml").write_text(BROKEN, encoding="utf-8")
    result = invoke("run", "x.wav", "-g", "broken.yaml", "-o", "out")
    _broken_glossary_line(result)


# ------------------------------------------------------------------ the shipped glossaries


def test_shipped_glossaries_are_clean(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    files = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "glossaries").glob("*.yaml"))
    assert "glossaries/cpec-media.yaml" in files
    result = invoke("glossary", "check", *files)
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert summary(result).endswith(": 0 error(s), 0 warning(s)")
    assert summary(result).startswith(f"{len(files)} file(s), ")
