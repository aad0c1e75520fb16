"""Translation memory in SQLite, with TMX export and import.

Two tables. `mt` caches machine output per step, keyed by the exact engine, package content
and decoding options plus the source text, so a re-run (or a series whose intro and outro
repeat) skips the model for lines already translated, and a different package or option never
serves a stale line. `tm` holds whole-route pairs (zh→ur): machine results, and approved lines
imported from TMX, which override machine translation from then on.

One file serves many processes (WAL journal, busy timeout), so batch workers can share it.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

from dubkit import __version__
from dubkit import constants as C
from dubkit.errors import ConfigError, TranslationMemoryError
from dubkit.models.store import dubkit_home
from dubkit.text.interchange import xml_text

_SCHEMA = """
CREATE TABLE IF NOT EXISTS mt (
    key TEXT NOT NULL,
    source TEXT NOT NULL,
    target TEXT NOT NULL,
    created TEXT NOT NULL,
    PRIMARY KEY (key, source)
);
CREATE TABLE IF NOT EXISTS engines (
    key TEXT PRIMARY KEY,
    description TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS tm (
    source_lang TEXT NOT NULL,
    target_lang TEXT NOT NULL,
    source TEXT NOT NULL,
    target TEXT NOT NULL,
    origin TEXT NOT NULL CHECK (origin IN ('mt', 'approved')),
    updated TEXT NOT NULL,
    note TEXT,
    PRIMARY KEY (source_lang, target_lang, source)
);
"""
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_BATCH = 500  # SQLite's variable limit is 999 on old builds


def default_path() -> Path:
    return dubkit_home() / "memory.sqlite"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class MemoryStats:
    mt_entries: int
    engines: int
    approved: int
    route_mt: int
    path: Path


class SqliteMemory:
    """The Memory port over one SQLite file."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = (path or default_path()).expanduser()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA busy_timeout=30000")
            self.db.executescript(_SCHEMA)
        except (sqlite3.Error, OSError) as exc:
            raise TranslationMemoryError(
                f"{self.path}: cannot open the translation memory ({exc}); choose another file "
                f"with --memory, or run with --no-cache",
                path=self.path,
            ) from exc

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> SqliteMemory:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _chunks(self, texts: Sequence[str]) -> Iterator[list[str]]:
        unique = list(dict.fromkeys(texts))
        for i in range(0, len(unique), _BATCH):
            yield unique[i : i + _BATCH]

    def lookup(self, key: str, texts: Sequence[str]) -> dict[str, str]:
        digest = _digest(key)
        found: dict[str, str] = {}
        for chunk in self._chunks(texts):
            marks = ",".join("?" * len(chunk))
            rows = self._query(
                f"SELECT source, target FROM mt WHERE key = ? AND source IN ({marks})",
                (digest, *chunk),
            )
            found.update(rows)
        return found

    def remember(self, key: str, pairs: Mapping[str, str]) -> None:
        digest, now = _digest(key), _now()
        self._write(
            [
                ("INSERT OR IGNORE INTO engines VALUES (?, ?)", [(digest, key)]),
                (
                    "INSERT OR REPLACE INTO mt VALUES (?, ?, ?, ?)",
                    [(digest, s, t, now) for s, t in pairs.items()],
                ),
            ]
        )

    def approved(self, source: str, target: str, texts: Sequence[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        for chunk in self._chunks(texts):
            marks = ",".join("?" * len(chunk))
            rows = self._query(
                "SELECT source, target FROM tm WHERE origin = 'approved' AND source_lang = ? "
                f"AND target_lang = ? AND source IN ({marks})",
                (source, target, *chunk),
            )
            found.update(rows)
        return found

    def record(self, source: str, target: str, pairs: Mapping[str, str]) -> None:
        """Route-level machine results (never over an approved line)."""
        now = _now()
        self._write(
            [
                (
                    "INSERT INTO tm VALUES (?, ?, ?, ?, 'mt', ?, NULL) "
                    "ON CONFLICT DO UPDATE SET target = excluded.target, "
                    "updated = excluded.updated "
                    "WHERE origin = 'mt'",
                    [(source, target, s, t, now) for s, t in pairs.items()],
                )
            ]
        )

    def approve(self, source: str, target: str, pairs: Mapping[str, str], note: str) -> int:
        now = _now()
        self._write(
            [
                (
                    "INSERT OR REPLACE INTO tm VALUES (?, ?, ?, ?, 'approved', ?, ?)",
                    [(source, target, s, t, now, note) for s, t in pairs.items()],
                )
            ]
        )
        return len(pairs)

    def pairs(
        self, source: str, target: str, approved_only: bool = False
    ) -> list[tuple[str, str, str, str]]:
        """(source, target, origin, updated) for a language pair, approved first."""
        where = " AND origin = 'approved'" if approved_only else ""
        return [
            (str(a), str(b), str(c), str(d))
            for a, b, c, d in self._query(
                "SELECT source, target, origin, updated FROM tm WHERE source_lang = ? "
                f"AND target_lang = ?{where} ORDER BY origin = 'mt', source",
                (source, target),
            )
        ]

    def stats(self) -> MemoryStats:
        def count(sql: str) -> int:
            return int(self._query(sql, ())[0][0])

        return MemoryStats(
            mt_entries=count("SELECT COUNT(*) FROM mt"),
            engines=count("SELECT COUNT(*) FROM engines"),
            approved=count("SELECT COUNT(*) FROM tm WHERE origin = 'approved'"),
            route_mt=count("SELECT COUNT(*) FROM tm WHERE origin = 'mt'"),
            path=self.path,
        )

    def _query(self, sql: str, args: Sequence[object]) -> list[tuple[Any, ...]]:
        try:
            return list(self.db.execute(sql, tuple(args)).fetchall())
        except sqlite3.Error as exc:
            raise self._error(exc) from exc

    def _write(self, statements: list[tuple[str, list[tuple[Any, ...]]]]) -> None:
        try:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                for sql, rows in statements:
                    self.db.executemany(sql, rows)
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")
        except sqlite3.Error as exc:
            raise self._error(exc) from exc

    def _error(self, exc: sqlite3.Error) -> TranslationMemoryError:
        return TranslationMemoryError(
            f"{self.path}: translation memory failed ({exc}); run with --no-cache, or move "
            f"the file away to start a new memory",
            path=self.path,
        )


# ------------------------------------------------------------------------------------ TMX


def render_tmx(rows: Sequence[tuple[str, str, str, str]], source: str, target: str) -> bytes:
    """TMX 1.4b: one <tu> per pair, origin (mt or approved) as a property. Characters XML 1.0
    forbids (C0 controls but tab, LF and CR; U+FFFE, U+FFFF; lone surrogates) are dropped, as
    no escape can carry them; CR is written as &#13; so that parsers do not turn it into LF.
    Everything else comes back from parse_tmx exactly."""
    root = ET.Element("tmx", version="1.4")
    ET.SubElement(
        root,
        "header",
        {
            "creationtool": "dubkit",
            "creationtoolversion": __version__,
            "datatype": "plaintext",
            "segtype": "sentence",
            "adminlang": "en",
            "srclang": source,
            "o-tmf": "dubkit-sqlite",
        },
    )
    body = ET.SubElement(root, "body")
    for src, tgt, origin, updated in rows:
        tu = ET.SubElement(body, "tu", changedate=_tmx_date(updated))
        ET.SubElement(tu, "prop", type="x-dubkit-origin").text = origin
        for lang, text in ((source, src), (target, tgt)):
            tuv = ET.SubElement(tu, "tuv", {_XML_LANG: lang})
            ET.SubElement(tuv, "seg").text = xml_text(text)
    ET.indent(root)
    data = bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True)) + b"\n"
    # ElementTree leaves CR raw in text; a raw byte 13 can only come from there (UTF-8
    # never uses it inside another character, and attributes are escaped already).
    return data.replace(b"\r", b"&#13;")


def _tmx_date(iso: str) -> str:
    return iso.replace("-", "").replace(":", "").replace("+0000", "Z")[:15] + "Z"


def parse_tmx(data: bytes, name: str, source: str, target: str) -> dict[str, str]:
    """source → target pairs from every <tu> holding both languages (region tags such as
    ur-PK or zh-CN match ur and zh), segments exactly as written; a unit blank on either side
    is skipped. Refuses DTDs and entities (no XML bombs)."""
    if any(
        mark.encode(codec) in data
        for mark in ("<!DOCTYPE", "<!ENTITY")
        for codec in ("utf-8", "utf-16-le", "utf-16-be")
    ):
        raise ConfigError(f"{name}: TMX with a DOCTYPE or entities is refused; remove them")
    try:
        root = ET.fromstring(data)
    except (LookupError, ValueError) as exc:  # an unknown encoding in the XML declaration
        raise ConfigError(f"{name}: cannot read the TMX ({exc}); save it as UTF-8") from exc
    except ET.ParseError as exc:
        line = exc.position[0]
        raise ConfigError(
            f"{name}:{line}: not valid TMX/XML ({exc.msg if hasattr(exc, 'msg') else exc}); "
            f"export it again from the CAT tool"
        ) from exc
    if root.tag != "tmx" or root.find("body") is None:
        raise ConfigError(f"{name}: not a TMX file (no <tmx><body>); export TMX 1.4")
    pairs: dict[str, str] = {}
    for tu in root.iter("tu"):
        texts: dict[str, str] = {}
        for tuv in tu.findall("tuv"):
            lang = (tuv.get(_XML_LANG) or tuv.get("lang") or "").lower().split("-")[0]
            seg = tuv.find("seg")
            if lang and seg is not None:
                texts[lang] = "".join(seg.itertext())
        if texts.get(source, "").strip() and texts.get(target, "").strip():
            pairs[texts[source]] = texts[target]
    return pairs


def export_tmx(
    memory: SqliteMemory, dest: Path, source: str, target: str, approved_only: bool
) -> int:
    from dubkit.fsutil import atomic_write_all

    rows = memory.pairs(source, target, approved_only)
    atomic_write_all({dest: render_tmx(rows, source, target)})
    return len(rows)


def import_tmx(memory: SqliteMemory, path: Path, source: str, target: str) -> int:
    from dubkit.fsutil import NotReadable, display_path, read_limited

    try:
        data = read_limited(path, C.MAX_TMX_BYTES)
    except NotReadable as exc:
        raise ConfigError(
            f"{display_path(path)}: is {exc.kind or f'{exc.size:,} bytes'}; give a TMX file of "
            f"at most {C.MAX_TMX_BYTES:,} bytes (split a larger memory)",
            path=path,
        ) from exc
    except OSError as exc:
        raise ConfigError(f"{display_path(path)}: cannot read ({exc.strerror or exc})",
                          path=path) from exc  # fmt: skip
    pairs = parse_tmx(data, display_path(path), source, target)
    if not pairs:
        raise ConfigError(
            f"{path}: no translation unit has both {source} and {target}; check the TMX's "
            f"xml:lang codes"
        )
    return memory.approve(source, target, pairs, note=f"tmx:{os.path.basename(path)}")


class ApprovedOnly:
    """The memory with its machine cache switched off (--no-cache): approved human lines
    still win, nothing is looked up or stored for the machine."""

    def __init__(self, memory: SqliteMemory) -> None:
        self.memory = memory

    def lookup(self, key: str, texts: Sequence[str]) -> dict[str, str]:
        return {}

    def remember(self, key: str, pairs: Mapping[str, str]) -> None:
        return None

    def approved(self, source: str, target: str, texts: Sequence[str]) -> dict[str, str]:
        return self.memory.approved(source, target, texts)

    def record(self, source: str, target: str, pairs: Mapping[str, str]) -> None:
        return None

    def pairs(
        self, source: str, target: str, approved_only: bool = True
    ) -> list[tuple[str, str, str, str]]:
        """The approved lines only: machine lines are what --no-cache leaves out."""
        return self.memory.pairs(source, target, approved_only=True)

    def close(self) -> None:
        self.memory.close()
