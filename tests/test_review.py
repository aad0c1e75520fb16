"""`dubkit review`'s server through Starlette's TestClient: every endpoint, the token, the
Host and write rules, traversal and links out of the folder, the body limit, the conflict
refusal, saves that change exactly what was edited (through run's own writer), split, merge,
frame nudges, approvals read back from the SQLite memory, and Urdu kept as text.

The programme is made as `run` makes one, by dubkit.episode.pipeline.translate_cues, with a
dictionary translator instead of the Argos packages (no model loads)."""

from __future__ import annotations

import json
import re
import shutil
import socket
import sqlite3
import wave
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from typer.testing import CliRunner

from dubkit import constants as C
from dubkit.cli import app
from dubkit.glossary.terms import Term, TermSet
from dubkit.records import Cue
from dubkit.review.draft import DraftCue, DraftError, nudge, split
from dubkit.review.programme import Review, ReviewError, find_programme, programme_media
from dubkit.subtitles.writers import render_srt
from tests.conftest import one_error_line

if TYPE_CHECKING:  # Starlette (the server's, and its TestClient) is imported where it is used:
    # at collection it cost every pytest-xdist worker its import, the one not running these too
    from starlette.testclient import TestClient

runner = CliRunner()
STEM = "ep"
TOKEN = "secret-token-for-tests"
TERM = Term(zh="巴基斯坦国家电视台", ur="پاکستان ٹیلی ویژن")
# Chinese → Urdu, by fragment: the translator sees the glossary term as its placeholder.
WORDS = {
    "大家好": "سب کو سلام",
    "今天播出": "آج نشر کرتا ہے",
    "谢谢收看": "دیکھنے کا شکریہ",
    "再见": "خدا حافظ",
    "新闻": "خبریں",
}
CHINESE = [  # on 25 fps frame boundaries
    (0, 2000, "大家好"),
    (2520, 5000, "巴基斯坦国家电视台今天播出"),
    (5520, 8000, "谢谢收看"),
    (8520, 11000, "再见"),
]


class WordTranslator:
    source, target, key = "zh", "ur", "words-v1"

    def translate(self, texts: Sequence[str]) -> list[str]:
        out = []
        for text in texts:
            for zh, ur in WORDS.items():
                text = text.replace(zh, f" {ur} ")
            out.append(" ".join(text.split()))
        return out


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A programme folder as `run --layout cue` leaves it (no dubbing script)."""
    from dubkit.episode.pipeline import TranslateSettings, translate_cues

    folder = tmp_path_factory.mktemp("made")
    zh = [Cue(n, a, b, (text,)) for n, (a, b, text) in enumerate(CHINESE, 1)]
    (folder / f"{STEM}.zh.srt").write_text(render_srt(zh), encoding="utf-8")
    en = [Cue(n, a, b, (f"English {n}",)) for n, (a, b, _) in enumerate(CHINESE, 1)]
    (folder / f"{STEM}.en.srt").write_text(render_srt(en), encoding="utf-8")
    settings = TranslateSettings(layout="cue")
    terms = TermSet((TERM,), {TERM.zh: TERM})
    translate_cues(zh, STEM, folder, [WordTranslator()], None, settings, terms)
    run = {
        "media": "ep.wav",
        "translate_settings": {
            "bom": False,
            "style": {"digits": "latin", "bidi_marks": True},
            "layout": "cue",
            "profile": {
                "name": "ur-broadcast",
                "max_chars_per_line": 42,
                "max_lines": 2,
                "min_duration_ms": 833,
                "max_duration_ms": 7000,
                "min_gap_frames": 2,
                "fps": 25.0,
                "pause_split_ms": 700,
                "max_cps": 17.0,
                "language": "ur",
            },
            "formats": ["vtt", "ass", "bilingual"],
        },
    }
    (folder / f"{STEM}.run.json").write_text(json.dumps(run), encoding="utf-8")
    with wave.open(str(folder / "ep.wav"), "wb") as w:  # 12 s: a tone, then silence
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        tone = bytes(
            b
            for k in range(16000 * 6)
            for b in (((k % 40) - 20) * 800).to_bytes(2, "little", signed=True)
        )
        w.writeframes(tone + bytes(2 * 16000 * 6))
    return folder


@pytest.fixture
def folder(made: Path, tmp_path: Path) -> Path:
    out = tmp_path / "out"
    shutil.copytree(made, out)
    return out


def _client(folder: Path, tmp_path: Path, **kwargs: Any) -> TestClient:
    from starlette.testclient import TestClient

    from dubkit.review.server import create_app

    files = find_programme(folder)
    media, _ = programme_media(files, kwargs.pop("media", None))
    review = Review(files, media, memory=tmp_path / "tm.sqlite", **kwargs)
    client = TestClient(create_app(review, TOKEN), headers={"X-Dubkit-Token": TOKEN})
    return client


@pytest.fixture
def client(folder: Path, tmp_path: Path) -> TestClient:
    return _client(folder, tmp_path)


def _page(client: TestClient) -> dict[str, Any]:
    response = client.get("/api/programme")
    assert response.status_code == 200, response.text
    return dict(response.json())


def _wire(cues: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: c[k] for k in ("key", "start_ms", "end_ms", "ur", "approved")} for c in cues]


def _blocks(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").strip().split("\n\n")


# --------------------------------------------------------------------- token and safety


ENDPOINTS = [
    ("GET", "/"), ("GET", "/static/review.js"), ("GET", "/media"), ("GET", "/api/programme"),
    ("GET", "/api/waveform"), ("GET", f"/files/{STEM}.ur.srt"), ("POST", "/api/check"),
    ("POST", "/api/edit"), ("POST", "/api/save"), ("GET", "/no-such-page"),
]  # fmt: skip


@pytest.mark.parametrize("given", [None, "wrong", TOKEN[:-1], TOKEN + "x"])
def test_every_endpoint_needs_the_token(folder: Path, tmp_path: Path, given: str | None) -> None:
    client = _client(folder, tmp_path)
    headers = {} if given is None else {"X-Dubkit-Token": given}
    client.headers.clear()
    before = (folder / f"{STEM}.ur.srt").read_bytes()
    for method, path in ENDPOINTS:
        response = client.request(method, path, headers=headers, json={"cues": []})
        assert response.status_code == 403, (method, path)
        assert "token" in response.json()["error"]
        assert response.headers["x-content-type-options"] == "nosniff"
    assert client.get(f"/?token={given}").status_code == 403
    assert (folder / f"{STEM}.ur.srt").read_bytes() == before


def test_token_in_the_query_opens_the_page(client: TestClient) -> None:
    client.headers.clear()
    page = client.get(f"/?token={TOKEN}")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert page.headers["referrer-policy"] == "no-referrer"
    assert f'content="{TOKEN}"' in page.text and f"review.js?token={TOKEN}" in page.text
    script = client.get(f"/static/review.js?token={TOKEN}")
    assert script.status_code == 200 and script.headers["content-type"].startswith(
        "text/javascript"
    )
    assert client.get(f"/static/review.css?token={TOKEN}").status_code == 200
    assert client.get(f"/static/index.html?token={TOKEN}").status_code == 404
    assert client.get(f"/static/..%2fserver.py?token={TOKEN}").status_code == 404


def test_host_header_must_name_the_loopback_address(folder: Path, tmp_path: Path) -> None:
    from starlette.testclient import TestClient

    from dubkit.review.server import create_app, loopback_hosts

    review = Review(find_programme(folder), None)
    app_ = create_app(review, TOKEN, loopback_hosts(8123))
    client = TestClient(app_, base_url="http://127.0.0.1:8123", headers={"X-Dubkit-Token": TOKEN})
    assert client.get("/api/programme").status_code == 200
    for host in ("evil.example:8123", "127.0.0.1:9999", "localhost.evil.example"):
        refused = client.get("/api/programme", headers={"Host": host})
        assert refused.status_code == 403 and "Host" in refused.json()["error"]


def test_writes_must_be_json_from_the_page_itself(client: TestClient) -> None:
    body = json.dumps({"cues": []})
    plain = client.post("/api/check", content=body, headers={"Content-Type": "text/plain"})
    assert plain.status_code == 415
    form = client.post("/api/save", data={"version": "x"})
    assert form.status_code == 415
    foreign = client.post(
        "/api/check", json={"cues": []}, headers={"Origin": "http://evil.example"}
    )
    assert foreign.status_code == 403
    same = client.post("/api/check", json={"cues": []}, headers={"Origin": "http://testserver"})
    assert same.status_code == 200


def test_oversize_body_is_refused(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(C, "MAX_REVIEW_BODY_BYTES", 4096)
    client = _client(folder, tmp_path)
    big = {"cues": [{"key": "", "start_ms": 0, "end_ms": 1, "ur": "ا" * 1500}] * 3}
    assert client.post("/api/check", json=big).status_code == 413
    chunks = (b'{"cues": [' + b" " * 1024 + b"]" for _ in range(8))  # no Content-Length
    response = client.post(
        "/api/save", content=chunks, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert client.post("/api/check", json={"cues": []}).status_code == 200


def test_bad_bodies_are_refused_with_a_reason(client: TestClient) -> None:
    def post(body: Any) -> Any:
        return client.post(
            "/api/check", content=json.dumps(body), headers={"Content-Type": "application/json"}
        )

    assert post({"cues": [{"start_ms": 5, "end_ms": 1, "ur": ""}]}).status_code == 422
    assert post({"cues": [{"start_ms": "0", "end_ms": 1, "ur": ""}]}).status_code == 422
    long = post({"cues": [{"start_ms": 0, "end_ms": 1, "ur": "ا" * (C.MAX_REVIEW_CUE_CHARS + 1)}]})
    assert long.status_code == 422 and "cues.0.ur" in long.json()["error"]
    bad = client.post("/api/check", content=b"{nope", headers={"Content-Type": "application/json"})
    assert bad.status_code == 422 and "not JSON" in bad.json()["error"]
    deep = client.post(
        "/api/check", content=b"[" * 100_000, headers={"Content-Type": "application/json"}
    )
    assert deep.status_code == 422


# ------------------------------------------------------------------------------- files


def test_only_the_programmes_own_files_are_served(folder: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET", encoding="utf-8")
    (folder / "notes.txt").write_text("not the programme's", encoding="utf-8")
    (folder / f"{STEM}.en.pivot.srt").symlink_to(secret)  # planted: a served name, outside
    client = _client(folder, tmp_path)
    srt = client.get(f"/files/{STEM}.ur.srt")
    assert srt.status_code == 200 and srt.content == (folder / f"{STEM}.ur.srt").read_bytes()
    assert srt.headers["content-type"].startswith("text/plain")
    assert client.get(f"/files/{STEM}.ur.vtt").headers["content-type"].startswith("text/vtt")
    for name in (
        f"{STEM}.en.pivot.srt", "notes.txt", "../secret.txt", "..%2fsecret.txt",
        "%2e%2e/secret.txt", "%2e%2e%2fsecret.txt", f"{tmp_path}/secret.txt",
        f"/{tmp_path}/secret.txt", f"..%2f..%2f{STEM}.ur.srt", f"sub/{STEM}.ur.srt",
        f"{STEM}.ur.srt%2f..%2f{STEM}.qa.json", "%00", f"{STEM}.", "ep.wav",
    ):  # fmt: skip
        response = client.get(f"/files/{name}")
        assert response.status_code == 404, name
        assert "TOP SECRET" not in response.text
    raw = client.get("/files/..%2F..%2F" + "%2e%2e/" * 4 + "etc/passwd")
    assert raw.status_code == 404 and "root:" not in raw.text


def test_a_link_out_of_the_folder_is_never_read(folder: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.srt"
    shutil.move(folder / f"{STEM}.zh.srt", outside)
    (folder / f"{STEM}.zh.srt").symlink_to(outside)
    with pytest.raises(ReviewError, match="leads outside"):
        Review(find_programme(folder), None).load()
    (folder / f"{STEM}.zh.srt").unlink()
    shutil.move(folder / f"{STEM}.ur.srt", outside)
    (folder / f"{STEM}.ur.srt").symlink_to(outside)
    with pytest.raises(ReviewError, match="leads outside"):
        find_programme(folder)


def test_media_is_served_with_ranges_and_its_waveform(client: TestClient, folder: Path) -> None:
    whole = (folder / "ep.wav").read_bytes()
    part = client.get("/media", headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == whole[100:200]
    assert client.get("/media").content == whole
    levels = client.get("/api/waveform").json()
    assert levels["step_ms"] == C.REVIEW_WAVEFORM_STEP_MS and len(levels["levels"]) == 120
    assert min(levels["levels"][:60]) > -30 and max(levels["levels"][60:]) == -100


def test_without_media_the_page_still_works(folder: Path, tmp_path: Path) -> None:
    from starlette.testclient import TestClient

    from dubkit.review.server import create_app

    (folder / "ep.wav").unlink()
    files = find_programme(folder)
    media, note = programme_media(files, None)
    assert media is None and note is not None and "--media" in note
    client = TestClient(create_app(Review(files, None), TOKEN), headers={"X-Dubkit-Token": TOKEN})
    assert client.get("/media").status_code == 404
    assert client.get("/api/waveform").status_code == 404
    assert _page(client)["media"] is None


# ------------------------------------------------------------------------- the page


def test_programme_lists_every_cue_with_its_checks(client: TestClient) -> None:
    page = _page(client)
    assert page["stem"] == STEM and page["media"] == "ep.wav" and page["fps"] == 25.0
    assert page["english_from"] == f"{STEM}.en.srt"
    assert page["profile"]["max_chars_per_line"] == 42 and page["profile"]["max_cps"] == 17.0
    cues = page["cues"]
    assert [c["key"] for c in cues] == ["c1", "c2", "c3", "c4"]
    assert [c["zh"] for c in cues] == [text for _, _, text in CHINESE]
    assert [c["en"] for c in cues] == ["English 1", "English 2", "English 3", "English 4"]
    assert cues[0]["ur"] == "سب کو سلام" and cues[0]["in"] == "00:00:00,000"
    assert cues[1]["terms"] == [{"zh": TERM.zh, "approved": TERM.ur, "found": True}]
    assert cues[1]["ur"].startswith(TERM.ur)
    assert "\u200e" not in "".join(c["ur"] for c in cues)  # the page edits without bidi marks
    assert cues[0]["line_chars"] == [10] and cues[0]["chars"] == 10 and cues[0]["cps"] == 5.0
    assert page["summary"]["cues"] == 4
    assert page["glossary"] == "terms recorded in qa.json"
    assert any("-g GLOSSARY.yaml" in note for note in page["notes"])


def test_typing_is_checked_live_against_profile_and_glossary(client: TestClient) -> None:
    cues = _wire(_page(client)["cues"])
    cues[1]["ur"] = "ٹی وی آج نشر کرتا ہے، " + "بہت لمبی بات " * 4  # the term's Urdu gone
    cues[2]["ur"] = "دیکھنے کا شکریہ, ok"  # Latin comma after Urdu
    checked = client.post("/api/check", json={"cues": cues}).json()
    second, third = checked["cues"][1], checked["cues"][2]
    assert second["terms"] == [{"zh": TERM.zh, "approved": TERM.ur, "found": False}]
    codes = {f["code"] for f in second["flags"]}
    assert {"glossary", "line-too-long", "reading-speed"} <= codes
    assert second["line_chars"][0] > 42 and second["cps"] > 17 and second["edited"] is True
    assert third["ur"] == "دیکھنے کا شکریہ, ok"  # the page's text comes back as it sent it
    assert "latin-punctuation" not in {f["code"] for f in third["flags"]}  # normalised on save
    assert checked["summary"]["flagged"] >= 1
    assert checked["cues"][0]["edited"] is False


# ------------------------------------------------------------------------------ saving


def test_a_save_without_edits_rewrites_what_run_wrote_byte_for_byte(
    client: TestClient, folder: Path
) -> None:
    names = [f"{STEM}.{k}" for k in ("ur.srt", "ur.vtt", "ur.ass", "zh-ur.srt", "qa.json")]
    before = {n: (folder / n).read_bytes() for n in names}
    page = _page(client)
    saved = client.post("/api/save", json={"version": page["version"], "cues": _wire(page["cues"])})
    assert saved.status_code == 200, saved.text
    assert sorted(saved.json()["saved"]) == sorted(names)
    assert saved.json()["changed"] == 0 and saved.json()["approved"] == 0
    assert {n: (folder / n).read_bytes() for n in names} == before
    assert not list(folder.glob(".*.tmp"))


def test_a_save_changes_exactly_the_edited_cue(client: TestClient, folder: Path) -> None:
    srt, vtt = folder / f"{STEM}.ur.srt", folder / f"{STEM}.ur.vtt"
    before, before_vtt = _blocks(srt), _blocks(vtt)
    page = _page(client)
    cues = _wire(page["cues"])
    cues[2]["ur"] = "دیکھنے کا بہت شکریہ. BBC"
    saved = client.post("/api/save", json={"version": page["version"], "cues": cues})
    assert saved.status_code == 200, saved.text
    assert saved.json()["changed"] == 1
    after = _blocks(srt)
    assert len(after) == 4
    assert [b for n, b in enumerate(after) if n != 2] == [b for n, b in enumerate(before) if n != 2]
    # normalised as translation writes Urdu: Urdu full stop, bidi marks around Latin
    assert after[2] == "3\n00:00:05,520 --> 00:00:08,000\nدیکھنے کا بہت شکریہ۔ \u200eBBC\u200e"
    after_vtt = _blocks(vtt)
    assert [b for n, b in enumerate(after_vtt) if n != 3] == [
        b for n, b in enumerate(before_vtt) if n != 3
    ]
    assert "شکریہ۔" in (folder / f"{STEM}.ur.ass").read_text(encoding="utf-8")
    both = _blocks(folder / f"{STEM}.zh-ur.srt")[2]
    assert both.split("\n")[2:] == ["谢谢收看", "دیکھنے کا بہت شکریہ۔ \u200eBBC\u200e"]
    qa = json.loads((folder / f"{STEM}.qa.json").read_text(encoding="utf-8"))
    assert qa["cues"][2]["output"] == "دیکھنے کا بہت شکریہ۔ \u200eBBC\u200e"
    assert qa["adherence"] == {"terms": 1, "found": 1, "rate": 1.0, "misses": [], "unverified": []}


def test_a_save_that_drops_a_term_reports_the_miss_in_qa_json(
    client: TestClient, folder: Path
) -> None:
    page = _page(client)
    cues = _wire(page["cues"])
    cues[1]["ur"] = "ٹی وی آج نشر کرتا ہے"
    assert (
        client.post("/api/save", json={"version": page["version"], "cues": cues}).status_code == 200
    )
    qa = json.loads((folder / f"{STEM}.qa.json").read_text(encoding="utf-8"))
    assert qa["adherence"]["rate"] == 0.0
    assert qa["adherence"]["misses"] == [{"cue": 2, "zh": TERM.zh, "approved": TERM.ur}]


def test_files_changed_on_disk_refuse_the_save(client: TestClient, folder: Path) -> None:
    page = _page(client)
    srt = folder / f"{STEM}.ur.srt"
    srt.write_text(
        srt.read_text(encoding="utf-8").replace("سلام", "السلام علیکم"), encoding="utf-8"
    )
    changed = {p.name: p.read_bytes() for p in folder.iterdir()}
    cues = _wire(page["cues"])
    cues[0]["ur"] = "کچھ اور"
    refused = client.post("/api/save", json={"version": page["version"], "cues": cues})
    assert refused.status_code == 409
    assert f"{STEM}.ur.srt changed on disk" in refused.json()["error"]
    assert "reload the page" in refused.json()["error"]
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == changed  # nothing written
    again = _page(client)  # the page reloaded: saving now works
    assert again["cues"][0]["ur"] == "سب کو السلام علیکم"
    assert (
        client.post("/api/save", json={"version": again["version"], "cues": cues}).status_code
        == 200
    )


def test_a_second_tab_saving_first_makes_the_first_reload(client: TestClient, folder: Path) -> None:
    first, second = _page(client), _page(client)
    assert (
        client.post(
            "/api/save", json={"version": second["version"], "cues": _wire(second["cues"][:3])}
        ).status_code
        == 200
    )
    refused = client.post(
        "/api/save", json={"version": first["version"], "cues": _wire(first["cues"])}
    )
    assert refused.status_code == 409 and f"{STEM}.ur.srt" in refused.json()["error"]


def test_overlapping_cues_are_not_saved(client: TestClient, folder: Path) -> None:
    page = _page(client)
    cues = _wire(page["cues"])
    cues[2]["start_ms"] = 4000
    before = (folder / f"{STEM}.ur.srt").read_bytes()
    refused = client.post("/api/save", json={"version": page["version"], "cues": cues})
    assert refused.status_code == 422
    assert refused.json()["error"].startswith("cue 3 starts at 00:00:04,000, before cue 2 ends")
    assert (folder / f"{STEM}.ur.srt").read_bytes() == before


def _memory(path: Path) -> list[tuple[str, str, str, str]]:
    with sqlite3.connect(path) as db:
        return sorted(db.execute("SELECT source, target, origin, note FROM tm").fetchall())


def test_edited_and_approved_lines_go_into_the_memory(
    client: TestClient, folder: Path, tmp_path: Path
) -> None:
    page = _page(client)
    cues = _wire(page["cues"])
    cues[2]["ur"] = "دیکھنے کا بہت  شکریہ\nدوستو"
    cues[0]["approved"] = True
    saved = client.post("/api/save", json={"version": page["version"], "cues": cues}).json()
    assert saved["approved"] == 2 and saved["changed"] == 1
    assert _memory(tmp_path / "tm.sqlite") == [
        ("大家好", "سب کو سلام", "approved", "review:ep"),
        ("谢谢收看", "دیکھنے کا بہت شکریہ دوستو", "approved", "review:ep"),
    ]


def test_no_memory_leaves_the_memory_alone(folder: Path, tmp_path: Path) -> None:
    client = _client(folder, tmp_path, use_memory=False)
    page = _page(client)
    cues = _wire(page["cues"])
    cues[0]["ur"] = "سلام"
    saved = client.post("/api/save", json={"version": page["version"], "cues": cues}).json()
    assert saved["approved"] == 0 and saved["changed"] == 1
    assert not (tmp_path / "tm.sqlite").exists()


# ------------------------------------------------------------------------- the edits


def test_split_then_merge(client: TestClient, folder: Path, tmp_path: Path) -> None:
    page = _page(client)
    cues = _wire(page["cues"])
    at = cues[1]["ur"].index("آج")
    parts = client.post("/api/edit", json={"cues": cues, "op": "split", "index": 1, "at_char": at})
    assert parts.status_code == 200, parts.text
    split_cues = parts.json()["cues"]
    assert len(split_cues) == 5
    first, second = split_cues[1], split_cues[2]
    assert (first["ur"], second["ur"]) == (TERM.ur, "آج نشر کرتا ہے")
    assert first["start_ms"] == 2520 and second["end_ms"] == 5000
    assert second["start_ms"] - first["end_ms"] == 80  # the profile's 2 frames at 25 fps
    assert first["end_ms"] % 40 == 0 and first["key"] == second["key"] == ""
    assert first["terms"][0]["found"] is True  # the Chinese goes to the piece with its middle
    at_head = client.post(
        "/api/edit", json={"cues": cues, "op": "split", "index": 1, "at_ms": 3010}
    ).json()["cues"]
    assert at_head[1]["end_ms"] == 3000 and at_head[2]["start_ms"] == 3080
    joined = client.post("/api/edit", json={"cues": _wire(split_cues), "op": "merge", "index": 1})
    merged = joined.json()["cues"]
    assert len(merged) == 4 and merged[1]["ur"] == f"{TERM.ur} آج نشر کرتا ہے"
    assert (merged[1]["start_ms"], merged[1]["end_ms"]) == (2520, 5000)
    saved = client.post("/api/save", json={"version": page["version"], "cues": _wire(split_cues)})
    assert saved.status_code == 200 and saved.json()["cues"] == 5
    # a split alone changes no Urdu, and half of it never pairs with the whole Chinese
    assert saved.json()["approved"] == 0 and saved.json()["not_approved"] == 0
    assert len(_blocks(folder / f"{STEM}.ur.srt")) == 5
    assert not (tmp_path / "tm.sqlite").exists() or _memory(tmp_path / "tm.sqlite") == []


@pytest.mark.parametrize(
    ("op", "message"),
    [
        ({"op": "merge", "index": 3}, "is the last"),
        ({"op": "split", "index": 0, "at_char": 0}, "nothing to split"),  # one word
        ({"op": "split", "index": 9}, "no cue 10"),
        ({"op": "nudge", "index": 0, "edge": "middle", "frames": 1}, "start or end"),
        ({"op": "rotate", "index": 0}, "unknown edit"),
    ],
)
def test_edits_that_cannot_be_made_say_why(
    client: TestClient, op: dict[str, Any], message: str
) -> None:
    cues = _wire(_page(client)["cues"])
    if op["op"] == "split" and op.get("at_char") == 0:
        cues[0]["ur"] = "ایک"
    refused = client.post("/api/edit", json={"cues": cues, **op})
    assert refused.status_code == 422 and message in refused.json()["error"]


def test_nudges_move_by_whole_frames(client: TestClient) -> None:
    cues = _wire(_page(client)["cues"])
    later = client.post(
        "/api/edit", json={"cues": cues, "op": "nudge", "index": 1, "edge": "start", "frames": 1}
    ).json()["cues"]
    assert later[1]["start_ms"] == 2560 and later[1]["in"] == "00:00:02,560"
    earlier = client.post(
        "/api/edit", json={"cues": cues, "op": "nudge", "index": 1, "edge": "end", "frames": -3}
    ).json()["cues"]
    assert earlier[1]["end_ms"] == 4880 and earlier[0] == {**earlier[0], **cues[0]}


def test_nudge_at_ntsc_rates_and_between_frames() -> None:
    draft = [DraftCue("c1", 1000, 3000, "ا")]
    # 30000/1001 fps: frame n starts at n * 1001/30 ms, rounded half up (29: 968, 30: 1001)
    assert nudge(draft, 0, "start", 1, 29.97)[0].start_ms == 1001  # the next boundary
    assert nudge(draft, 0, "start", -1, 29.97)[0].start_ms == 968  # the one it is past
    assert nudge(draft, 0, "start", -2, 29.97)[0].start_ms == 934
    on = [DraftCue("c1", 1001, 3000, "ا")]
    assert nudge(on, 0, "start", 1, 29.97)[0].start_ms == 1034
    assert nudge(on, 0, "start", -1, 29.97)[0].start_ms == 968
    assert nudge(draft, 0, "start", -100, 25)[0].start_ms == 0  # never before 0
    assert nudge(draft, 0, "start", 100, 25)[0].start_ms == 3000  # nor past its out time
    assert nudge(draft, 0, "end", -100, 25)[0].end_ms == 1000
    assert (
        nudge([DraftCue("", 0, C.MAX_PROGRAMME_MS - 5, "ا")], 0, "end", 9, 25)[0].end_ms
        == C.MAX_PROGRAMME_MS
    )


def test_split_of_a_cue_too_short() -> None:
    from dubkit.profiles import BUILTIN_PROFILES

    with pytest.raises(DraftError, match="too short to split"):
        split([DraftCue("", 0, 100, "ایک دو")], 0, BUILTIN_PROFILES["ur-broadcast"])


# --------------------------------------------------------------------------- escaping


def test_urdu_and_names_are_never_markup(made: Path, tmp_path: Path) -> None:
    folder = tmp_path / "out"
    shutil.copytree(made, folder)
    stem = "ep<img src=x onerror=alert(3)>"
    for path in list(folder.glob(f"{STEM}.*")):
        path.rename(folder / (stem + path.name[len(STEM) :]))
    srt = folder / f"{stem}.ur.srt"
    attack = "<script>alert(1)</script><img src=x onerror=alert(2)>"
    srt.write_text(srt.read_text(encoding="utf-8").replace("سب کو سلام", attack), encoding="utf-8")
    client = _client(folder, tmp_path)
    page = client.get("/")
    assert "<img" not in page.text and "ep&lt;img src=x onerror=alert(3)&gt;" in page.text
    assert "<script>alert" not in page.text  # the page holds no cue: they come as JSON
    data = client.get("/api/programme")
    assert data.headers["content-type"] == "application/json"
    assert data.json()["cues"][0]["ur"] == attack
    served = client.get("/files/ep%3Cimg%20src%3Dx%20onerror%3Dalert(3)%3E.ur.srt")
    assert served.status_code == 200 and served.headers["content-type"].startswith("text/plain")
    script = client.get("/static/review.js").text
    assert not re.search(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(", script)


# --------------------------------------------------------------------------- the CLI


def test_review_help() -> None:
    result = runner.invoke(app, ["review", "--help"])
    assert result.exit_code == 0 and "--media" in result.output and "--host" in result.output


def test_finding_the_programme(folder: Path, tmp_path: Path) -> None:
    assert find_programme(folder).stem == STEM
    assert find_programme(folder / STEM).stem == STEM
    assert find_programme(folder / f"{STEM}.qa.json").stem == STEM
    assert find_programme(folder / f"{STEM}.zh-ur.srt").stem == STEM
    shutil.copy(folder / f"{STEM}.ur.srt", folder / "other.ur.srt")
    with pytest.raises(ReviewError, match=r"holds 2 programmes \(ep, other\)"):
        find_programme(folder)
    with pytest.raises(ReviewError, match=r"no STEM\.ur\.srt here"):
        find_programme(_empty(tmp_path))
    with pytest.raises(ReviewError, match="no such file"):
        find_programme(folder / "nothing")


def _empty(tmp_path: Path) -> Path:
    empty = tmp_path / "empty"
    empty.mkdir()
    return empty


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["{empty}"], "no STEM.ur.srt here"),
        (["{folder}", "--media", "{folder}/nothing.mp4"], "no such file"),
        (["{folder}", "--port", "{busy}"], "cannot listen there"),
    ],
)
def test_cli_errors_are_one_line(folder: Path, tmp_path: Path, args: list[str], says: str) -> None:
    with socket.create_server(("127.0.0.1", 0)) as busy:
        values = {"empty": _empty(tmp_path), "folder": folder, "busy": busy.getsockname()[1]}
        result = runner.invoke(app, ["review", *(a.format(**values) for a in args)])
    assert says in one_error_line(result)


def test_cli_prints_the_address_with_its_token(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dubkit.review import server

    served: list[Any] = []
    monkeypatch.setattr(server, "serve", lambda app_, sock: served.append(sock.getsockname()))

    def opened(uri: str) -> None:
        page = Path(uri.removeprefix("file://"))
        served.append((uri, page.stat().st_mode & 0o777, page.read_text(encoding="utf-8")))

    monkeypatch.setattr("webbrowser.open", opened)
    result = runner.invoke(app, ["review", str(folder), "--open"])
    assert result.exit_code == 0, result.output
    url = result.stdout.strip()
    # opened, then served: a file only this user reads leads to the address, so that the
    # token is never on the browser's command line
    uri, mode, text = served.pop(0)
    assert uri.startswith("file://") and "token" not in uri and mode == 0o600
    assert f'content="0;url={url}"' in text
    assert not Path(uri.removeprefix("file://")).exists()  # removed once the server stops
    served.insert(0, url)
    assert re.fullmatch(rf"http://127\.0\.0\.1:{served[1][1]}/\?token=[\w-]{{32}}", url)
    assert served[1][0] == "127.0.0.1"
    assert "warning" not in result.stderr
    opened = runner.invoke(app, ["review", str(folder), "--host", "0.0.0.0"])
    assert opened.exit_code == 0 and "warning: --host 0.0.0.0" in opened.stderr
    assert served[2][0] == "0.0.0.0"


def test_a_save_keeps_the_runs_record_of_its_pivot_srts(client: TestClient, folder: Path) -> None:
    """Translation recognises its own pivot SRTs by this record (a person's are set aside):
    the review page edits no pivot, so the record stays."""
    qa_json = folder / f"{STEM}.qa.json"
    doc = json.loads(qa_json.read_text(encoding="utf-8"))
    doc["pivot_srts"] = {f"{STEM}.en.srt": "0" * 64}
    qa_json.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    page = _page(client)
    cues = _wire(page["cues"])
    cues[0]["ur"] = "سلام"
    assert (
        client.post("/api/save", json={"version": page["version"], "cues": cues}).status_code == 200
    )
    saved = json.loads(qa_json.read_text(encoding="utf-8"))
    assert saved["pivot_srts"] == {f"{STEM}.en.srt": "0" * 64}
    assert list(saved)[-1] == "pivot_srts"  # where translation writes it


# ------------------------------------------------------------------ hostile-review fixes


def test_media_that_is_not_sound_or_picture_is_refused(folder: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("root:x:0:0:TOP SECRET\n" * 50, encoding="utf-8")
    files = find_programme(folder)
    for given in (secret, Path("/dev/zero")):
        with pytest.raises(ReviewError, match="give the programme's video or sound"):
            programme_media(files, given)
    run_json = folder / f"{STEM}.run.json"
    doc = json.loads(run_json.read_text(encoding="utf-8"))
    run_json.write_text(json.dumps({**doc, "media": str(secret)}), encoding="utf-8")
    (folder / "ep.wav").unlink()
    media, note = programme_media(files, None)
    assert media is None and note is not None and "not a video or sound file" in note


def _saved_split(client: TestClient, change: Any) -> dict[str, Any]:
    page = _page(client)
    parts = client.post("/api/edit", json={"cues": _wire(page["cues"]), "op": "split", "index": 1})
    cues = _wire(parts.json()["cues"])
    change(cues)
    saved = client.post("/api/save", json={"version": page["version"], "cues": cues})
    assert saved.status_code == 200, saved.text
    return dict(saved.json())


def test_a_split_never_approves_half_the_urdu_for_the_whole_chinese(
    client: TestClient, tmp_path: Path
) -> None:
    assert _saved_split(client, lambda cues: None)["approved"] == 0  # no text changed

    def edit_and_approve(cues: list[dict[str, Any]]) -> None:
        cues[1]["ur"] += " جی"
        cues[2]["approved"] = True

    saved = _saved_split(client, edit_and_approve)
    assert saved["approved"] == 0 and saved["not_approved"] == 2
    assert not (tmp_path / "tm.sqlite").exists() or _memory(tmp_path / "tm.sqlite") == []


def test_fingerprint_never_reads_a_fifo_or_a_link_out(folder: Path, tmp_path: Path) -> None:
    import os
    import threading

    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET", encoding="utf-8")
    (folder / f"{STEM}.en.pivot.srt").symlink_to(secret)
    fifo = folder / f"{STEM}.ur.vtt"
    fifo.unlink()
    os.mkfifo(fifo)
    found: list[dict[str, str]] = []
    worker = threading.Thread(target=lambda: found.append(find_programme(folder).fingerprint()))
    worker.start()
    worker.join(2)
    if worker.is_alive():  # the old code blocks on the FIFO: let it go
        with open(fifo, "wb"):
            pass
        worker.join()
    assert found and not worker.is_alive()
    assert found[0][f"{STEM}.ur.vtt"].startswith("unreadable")
    assert found[0][f"{STEM}.en.pivot.srt"].startswith("unreadable")


def test_files_are_opened_once_so_a_swapped_link_is_never_followed(
    client: TestClient, folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET", encoding="utf-8")
    target = folder / f"{STEM}.zh-ur.srt"
    real_resolve = Path.resolve

    def swapping(self: Path, strict: bool = False) -> Path:  # the swap lands after the check
        found = real_resolve(self, strict=strict)
        if self == target and not target.is_symlink():
            target.unlink()
            target.symlink_to(secret)
        return found

    monkeypatch.setattr(Path, "resolve", swapping)
    response = client.get(f"/files/{STEM}.zh-ur.srt")
    assert "TOP SECRET" not in response.text and response.status_code == 404


def test_a_stem_that_is_not_utf8_is_shown_escaped(made: Path, tmp_path: Path) -> None:
    folder = tmp_path / "out"
    shutil.copytree(made, folder)
    stem = "ep\udcff"
    for path in list(folder.glob(f"{STEM}.*")):
        path.rename(folder / (stem + path.name[len(STEM) :]))
    page = _page(_client(folder, tmp_path))
    assert page["stem"] == "ep\\xff" and page["english_from"] == "ep\\xff.en.srt"


@pytest.mark.parametrize("kind", ["run.json", "asr.json"])
def test_records_linked_out_of_the_folder_are_not_read(
    folder: Path, tmp_path: Path, kind: str
) -> None:
    outside = tmp_path / f"elsewhere.{kind}"
    outside.write_text("{}", encoding="utf-8")
    (folder / f"{STEM}.{kind}").unlink(missing_ok=True)
    (folder / f"{STEM}.{kind}").symlink_to(outside)
    with pytest.raises(ReviewError, match="leads outside"):
        Review(find_programme(folder), None).load()


@pytest.mark.parametrize("text", ["a\x1b[31mb", "a\x00b", "a\rb", "a\x07b", "a\x9bb"])
def test_control_characters_are_refused(client: TestClient, text: str) -> None:
    cues = _wire(_page(client)["cues"])
    cues[0]["ur"] = text
    refused = client.post("/api/check", json={"cues": cues})
    assert refused.status_code == 422 and "cues.0.ur" in refused.json()["error"]


@pytest.mark.parametrize("spans", [[(2000, 2000)], [(2000, 2000), (2000, 2000)]])
def test_empty_and_stacked_cues_are_not_saved(
    client: TestClient, folder: Path, spans: list[tuple[int, int]]
) -> None:
    page = _page(client)
    cues = _wire(page["cues"])
    cues[1:1] = [{"key": "", "start_ms": a, "end_ms": b, "ur": "ا", "approved": False}
                 for a, b in spans]  # fmt: skip
    before = (folder / f"{STEM}.ur.srt").read_bytes()
    refused = client.post("/api/save", json={"version": page["version"], "cues": cues})
    assert refused.status_code == 422, refused.text
    assert (folder / f"{STEM}.ur.srt").read_bytes() == before


def test_split_at_the_play_head_near_an_edge_shares_the_time() -> None:
    from dubkit.profiles import BUILTIN_PROFILES

    profile = BUILTIN_PROFILES["ur-broadcast"]
    for at_ms in (40, 1960):
        first, second = split([DraftCue("", 0, 2000, "ایک دو")], 0, profile, at_ms=at_ms)
        assert 0 < first.end_ms < second.start_ms < 2000


def test_run_json_changed_on_disk_refuses_the_save(client: TestClient, folder: Path) -> None:
    page = _page(client)
    run_json = folder / f"{STEM}.run.json"
    run_json.write_text(run_json.read_text(encoding="utf-8") + " ", encoding="utf-8")
    refused = client.post(
        "/api/save", json={"version": page["version"], "cues": _wire(page["cues"])}
    )
    assert refused.status_code == 409 and f"{STEM}.run.json" in refused.json()["error"]


def test_loopback_host_keeps_the_host_check_without_a_warning(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from starlette.testclient import TestClient

    from dubkit.review import server

    apps: list[Any] = []
    monkeypatch.setattr(server, "serve", lambda app_, sock: apps.append(app_))
    result = runner.invoke(app, ["review", str(folder), "--host", "127.0.0.1"])
    assert result.exit_code == 0 and "warning" not in result.stderr
    refused = TestClient(apps[0]).get("/", headers={"Host": "evil.example"})
    assert refused.status_code == 403 and "Host" in refused.json()["error"]
