"""The QA report as one self-contained HTML page: summary, glossary adherence, a reading-speed
chart over the programme (inline SVG) and every cue with its flags. No scripts, no external
resources; every text from the subtitle file is escaped. Pure: a report dict in, HTML out."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from dubkit.text.urdu import has_urdu
from dubkit.timecode import clock

OVER = "#d62728"  # over the reading-speed limit; used for nothing else on the page
WITHIN = "#3b7dd8"
URDU_FONTS = '"Noto Nastaliq Urdu", "Noto Naskh Arabic", "Jameel Noori Nastaleeq", serif'
CJK_FONTS = '"Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", sans-serif'

# A run of Arabic-script text (words and the spaces between them) inside an English reason.
_ARABIC_RUN = re.compile(
    "[\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufeff]+"
    "(?: [\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufeff]+)*"
)

_CSS = f"""
body {{ font-family: system-ui, "Noto Sans", "DejaVu Sans", sans-serif; margin: 24px;
  color: #1d1d1f; background: #fff; }}
h1 {{ font-size: 22px; margin: 0 0 6px; }}
h2 {{ font-size: 17px; margin: 28px 0 8px; }}
.meta {{ color: #555; margin: 0 0 12px; }}
.verdict {{ display: inline-block; padding: 3px 10px; border-radius: 4px; color: #fff;
  font-weight: 600; margin-right: 8px; }}
.pass {{ background: #2e7d32; }}
.fail {{ background: #6a1b9a; }}
table {{ border-collapse: collapse; }}
th, td {{ border: 1px solid #d0d0d0; padding: 4px 8px; text-align: left; vertical-align: top; }}
th {{ background: #f2f2f2; }}
td.num {{ text-align: right; font-variant-numeric: tabular-nums; }}
table.cues {{ width: 100%; }}
tr.flagged {{ background: #fff4e5; }}
.ur {{ font-family: {URDU_FONTS}; font-size: 20px; line-height: 2.1; text-align: right; }}
.zh {{ font-family: {CJK_FONTS}; }}
.code {{ font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-weight: 600;
  color: #8a4b00; }}
ul.flags {{ margin: 0; padding-left: 18px; }}
.problem {{ color: #6a1b9a; font-weight: 600; }}
.chart text {{ font-size: 12px; fill: #333; }}
.chart .title {{ font-size: 13px; }}
.legend span {{ display: inline-block; width: 12px; height: 12px; margin: 0 4px 0 12px;
  vertical-align: middle; }}
"""


def render_html(report: Mapping[str, Any]) -> str:
    """The page for a report built by dubkit.qa.rules.build_report."""
    name = str(report.get("file", "subtitles"))
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f"<title>Subtitle QA: {escape(name)}</title>",
        f"<style>{_CSS}</style>",
        "</head>",
        "<body>",
        f"<h1>Subtitle QA: {escape(name)}</h1>",
        _profile_line(report),
        _summary(report),
        _chart_section(report),
        _glossary(report.get("glossary")),
        _repairs(report.get("structure_error"), report.get("repairs") or []),
        _cue_table(report),
        "</body>",
        "</html>",
    ]
    return "\n".join(p for p in parts if p) + "\n"


def _prose(text: str) -> str:
    """English with Urdu quoted in it, escaped: each Urdu run isolated in <bdi> so that it
    cannot reorder the English around it ("ي U+064A (use ی U+06CC)")."""
    return _ARABIC_RUN.sub(lambda m: f'<bdi lang="ur">{m.group(0)}</bdi>', escape(text))


def _n(value: float | None, digits: int = 2) -> str:
    if value is None:
        return "–"
    return f"{value:.{digits}f}".rstrip("0").rstrip(".")


def _text_attrs(text: str, profile_language: str) -> str:
    """dir and lang for a cue's text: Urdu right to left, Chinese tagged zh."""
    if has_urdu(text):
        return ' class="text ur" dir="rtl" lang="ur"'
    if profile_language == "zh" or any("\u4e00" <= c <= "\u9fff" for c in text):
        return ' class="text zh" lang="zh"'
    return ' class="text"'


def _profile_line(report: Mapping[str, Any]) -> str:
    p = report.get("profile") or {}
    cps = f", at most {_n(p.get('max_cps'))} characters per second" if p.get("max_cps") else ""
    return (
        f'<p class="meta">Profile <b>{escape(str(p.get("name", "?")))}</b>: '
        f"{escape(str(p.get('max_chars_per_line')))} characters × "
        f"{escape(str(p.get('max_lines')))} lines{escape(cps)}, "
        f"{escape(str(p.get('min_duration_ms')))}–{escape(str(p.get('max_duration_ms')))} ms, "
        f"{escape(str(p.get('min_gap_frames')))} frames apart at {escape(_n(p.get('fps')))} fps."
        "</p>"
    )


def _summary(report: Mapping[str, Any]) -> str:
    s = report.get("summary") or {}
    passed = bool(report.get("passed"))
    verdict = (
        '<span class="verdict pass">PASS</span>'
        if passed
        else '<span class="verdict fail">FAIL</span>'
    )
    worst = "–"
    if s.get("worst_cue") is not None:
        speed = f"{_n(s.get('worst_cps'))} cps" if s.get("worst_cps") is not None else "0 ms cue"
        worst = (
            f'{escape(speed)} (<a href="#cue-{int(s["worst_cue"])}">cue {int(s["worst_cue"])}</a>)'
        )
    rows = [
        ("Cues", escape(str(s.get("cues", 0)))),
        ("Clean cues", f"{s.get('clean', 0)} ({_n(s.get('clean_percent'), 1)}%)"),
        ("Flagged cues", escape(str(s.get("flagged", 0)))),
        ("Fastest cue", worst),
        ("Programme length", escape(clock(int(s.get("duration_ms", 0))))),
    ]
    codes = report.get("codes") or {}
    counts = s.get("counts") or {}
    head = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows)
    flags = "".join(
        f'<tr><td class="code">{escape(str(code))}</td><td class="num">{int(count)}</td>'
        f"<td>{_prose(str(codes.get(code, '')))}</td></tr>"
        for code, count in counts.items()
    )
    by_code = (
        "<table><tr><th>Flag</th><th>Cues</th><th>Meaning</th></tr>" + flags + "</table>"
        if flags
        else "<p>No cue breaks a rule.</p>"
    )
    return (
        f"<h2>{verdict}Summary</h2>"
        f'<div style="display:flex;gap:32px;align-items:flex-start">'
        f"<table>{head}</table>{by_code}</div>"
    )


def _glossary(glossary: Mapping[str, Any] | None) -> str:
    if not glossary:
        return ""
    adherence = glossary.get("adherence") or {}
    names = ", ".join(
        f"{g.get('name')} {g.get('version')}" for g in glossary.get("glossaries") or []
    )
    rate = adherence.get("rate")
    if rate is None:
        line = "No glossary term occurs in the source."
    else:
        line = (
            f"Adherence {_n(100 * float(rate), 1)}%: {int(adherence.get('found', 0))} of "
            f"{int(adherence.get('terms', 0))} term occurrences use the approved rendering."
        )
    unverified = adherence.get("unverified") or []
    if unverified:
        line += (
            f" {len(unverified)} more occurrence(s) are not counted: the recogniser flagged "
            f"their text (a loop, or text where no speech was heard)."
        )
    out = [
        "<h2>Glossary adherence</h2>",
        f'<p class="meta">{escape(names)}</p>' if names else "",
        f"<p>{escape(line)}</p>",
    ]
    misses = adherence.get("misses") or []
    if misses:
        rows = "".join(
            f'<tr><td class="num"><a href="#cue-{int(m["cue"])}">{int(m["cue"])}</a></td>'
            f'<td class="zh" lang="zh">{escape(str(m.get("zh", "")))}</td>'
            f"<td{_text_attrs(str(m.get('approved', '')), 'ur')}>"
            f"{escape(str(m.get('approved', '')))}</td></tr>"
            for m in misses
        )
        out.append(
            "<table><tr><th>Cue</th><th>Term</th><th>Approved rendering (missing)</th></tr>"
            + rows
            + "</table>"
        )
    return "\n".join(p for p in out if p)


def _repairs(error: str | None, repairs: Sequence[str]) -> str:
    """The file's structure: what strict reading refused and what lenient reading repaired
    so that the cues could be checked (the cues below are the repaired ones)."""
    if not repairs and not error:
        return ""
    out = ["<h2>File structure</h2>"]
    if error:
        out.append(
            f'<p class="problem">Not a valid file as written: {escape(error)}. The cues below '
            "are checked as repaired:</p>"
        )
    items = "".join(f"<li>{escape(str(r))}</li>" for r in repairs)
    if items:
        out.append(f"<ul>{items}</ul>")
    return "".join(out)


def _nice_step(span: float, most: int, steps: Sequence[float]) -> float:
    for step in steps:
        if span / step <= most:
            return step
    return steps[-1] * math.ceil(span / steps[-1] / most)


def _chart_section(report: Mapping[str, Any]) -> str:
    cues = report.get("cues") or []
    if not cues:
        return ""
    limit = (report.get("profile") or {}).get("max_cps")
    over = sum(1 for c in cues if _over(c, limit))
    legend = f'<span style="background:{WITHIN}"></span>within the limit'
    if over:
        legend += f'<span style="background:{OVER}"></span>over the limit ({over} cues)'
    if limit:
        legend += (
            '<span style="background:repeating-linear-gradient(90deg,#333 0 4px,#fff 4px 7px);'
            f'height:2px"></span>limit {escape(_n(limit))} cps'
        )
    return (
        "<h2>Reading speed over the programme</h2>"
        f"{chart_svg(cues, limit)}"
        f'<p class="legend">{legend}</p>'
    )


def _over(cue: Mapping[str, Any], limit: float | None) -> bool:
    if any(f.get("code") == "reading-speed" for f in cue.get("flags") or []):
        return True
    cps = cue.get("cps")
    return bool(limit) and cps is not None and float(cps) > float(limit or 0)


def chart_svg(
    cues: Sequence[Mapping[str, Any]],
    limit: float | None,
    width: int = 1200,
    height: int = 320,
) -> str:
    """Bars of characters per second, each as wide as its cue lasts, over programme time; a
    dashed line at the limit; bars over it in red (clipped at the top when far over)."""
    left, right, top, bottom = 64, 16, 16, 52
    pw, ph = width - left - right, height - top - bottom
    t_end = max((int(c.get("end_ms", 0)) for c in cues), default=0) or 1
    speeds = [float(c["cps"]) for c in cues if c.get("cps") is not None]
    highest = max(speeds, default=0.0)
    ceiling = max(limit * 1.25 if limit else 0.0, highest * 1.05, 5.0)
    if limit:
        ceiling = min(ceiling, limit * 2.5)  # one absurd cue must not flatten the rest
    y_step = _nice_step(ceiling, 8, (1, 2, 5, 10, 20, 50, 100))
    y_max = math.ceil(ceiling / y_step) * y_step

    def x(ms: float) -> float:
        return left + ms / t_end * pw

    def y(cps: float) -> float:
        return top + ph - min(cps, y_max) / y_max * ph

    out = [
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="Reading speed per cue over the programme">',
        f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="#fafafa" stroke="#ccc"/>',
    ]
    v = 0.0
    while v <= y_max + 1e-9:
        out.append(
            f'<line x1="{left}" y1="{y(v):.1f}" x2="{left + pw}" y2="{y(v):.1f}" '
            f'stroke="#e4e4e4"/>'
            f'<text x="{left - 6}" y="{y(v) + 4:.1f}" text-anchor="end">{_n(v)}</text>'
        )
        v += y_step
    t_step = _nice_step(
        t_end, 10, (5_000, 10_000, 30_000, 60_000, 120_000, 300_000, 600_000, 900_000, 1_800_000)
    )
    t = 0.0
    while t <= t_end + 1e-9:
        label = clock(int(t), fraction=0, hours=0)  # M:SS, H:MM:SS from the first hour
        out.append(
            f'<line x1="{x(t):.1f}" y1="{top + ph}" x2="{x(t):.1f}" y2="{top + ph + 5}" '
            f'stroke="#666"/>'
            f'<text x="{x(t):.1f}" y="{top + ph + 18}" text-anchor="middle">{label}</text>'
        )
        t += t_step
    for c in cues:
        start, end = int(c.get("start_ms", 0)), int(c.get("end_ms", 0))
        cps = c.get("cps")
        shown = y_max if cps is None else float(cps)
        colour = OVER if _over(c, limit) else WITHIN
        bar_w = max(2.0, (end - start) / t_end * pw)
        label = f"cue {c.get('index')}: {_n(cps)} cps" if cps is not None else "0 ms"
        out.append(
            f'<a href="#cue-{int(c.get("index", 0))}"><rect x="{x(start):.1f}" '
            f'y="{y(shown):.1f}" width="{bar_w:.1f}" height="{top + ph - y(shown):.1f}" '
            f'fill="{colour}"><title>{escape(label)}</title></rect></a>'
        )
    if limit:
        out.append(
            f'<line x1="{left}" y1="{y(limit):.1f}" x2="{left + pw}" y2="{y(limit):.1f}" '
            f'stroke="#333" stroke-width="1.5" stroke-dasharray="6 4"/>'
            f'<text x="{left + pw - 4}" y="{y(limit) - 5:.1f}" text-anchor="end">'
            f"limit {_n(limit)} cps</text>"
        )
    out += [
        f'<line x1="{left}" y1="{top + ph}" x2="{left + pw}" y2="{top + ph}" stroke="#333"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + ph}" stroke="#333"/>',
        f'<text class="title" x="{left + pw / 2:.1f}" y="{height - 10}" '
        f'text-anchor="middle">programme time (m:ss)</text>',
        f'<text class="title" x="16" y="{top + ph / 2:.1f}" text-anchor="middle" '
        f'transform="rotate(-90 16 {top + ph / 2:.1f})">characters per second</text>',
        "</svg>",
    ]
    return "".join(out)


def _cue_table(report: Mapping[str, Any]) -> str:
    cues = report.get("cues") or []
    language = str((report.get("profile") or {}).get("language", ""))
    rows = []
    for c in cues:
        flags = c.get("flags") or []
        lines = [str(line) for line in c.get("lines") or []]
        text = "<br>".join(escape(line) for line in lines)
        listed = "".join(
            f'<li><span class="code">{escape(str(f.get("code")))}</span> '
            f"{_prose(str(f.get('reason')))}</li>"
            for f in flags
        )
        index = int(c.get("index", 0))
        flagged = ' class="flagged"' if flags else ""
        flag_list = f'<ul class="flags">{listed}</ul>' if listed else ""
        rows.append(
            f'<tr id="cue-{index}"{flagged}>'
            f'<td class="num">{index}</td>'
            f"<td>{clock(int(c.get('start_ms', 0)))}</td>"
            f"<td>{clock(int(c.get('end_ms', 0)))}</td>"
            f'<td class="num">{int(c.get("duration_ms", 0))}</td>'
            f"<td{_text_attrs(' '.join(lines), language)}>{text}</td>"
            f'<td class="num">{int(c.get("chars", 0))}</td>'
            f'<td class="num">{_n(c.get("cps"))}</td>'
            f"<td>{flag_list}</td></tr>"
        )
    return (
        "<h2>Cues</h2>"
        '<table class="cues"><tr><th>#</th><th>In</th><th>Out</th><th>ms</th><th>Text</th>'
        "<th>Chars</th><th>cps</th><th>Flags</th></tr>" + "".join(rows) + "</table>"
    )
