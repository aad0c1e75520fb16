"""`dubkit review` in a real browser: Debian's headless Chromium driven through its own
chromedriver by Selenium (nothing downloaded), on a programme `dubkit run` made from the 70 s
shared recording with the real whisper:base model and the test Argos packages. The page lists
every cue, a click seeks the video, the keyboard moves and plays cues, markup typed as Urdu
stays text, an edited line is saved to the SRT (every other cue byte for byte) and approved in
the translation memory; the page with Urdu over the video is screenshot (DUBKIT_REGEN_DOCS=1
writes it to docs/review.png)."""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from dubkit.cli import app
from dubkit.dubbing.script import build_script, ur_plain
from dubkit.review.programme import Review, _whole_source, find_programme
from dubkit.subtitles.files import read_srt
from dubkit.text.urdu import strip_bidi
from tests.conftest import CPEC, ROOT, _missing, run_ffmpeg

pytestmark = [pytest.mark.model, pytest.mark.assets, pytest.mark.slow]
runner = CliRunner()
TOKEN = "browser-test-token"
NEW_URDU = "پاکستان اور چین کی دوستی زندہ باد"
MARKUP = "<b>x</b><img src=x onerror=window.pwned=1>"


@pytest.fixture(scope="module")
def chrome() -> tuple[str, str]:
    """Debian's chromedriver and the chromium it drives."""
    driver, browser = shutil.which("chromedriver"), shutil.which("chromium")
    if driver is None or browser is None:
        _missing(
            "chromedriver or chromium not installed (scripts/bootstrap.sh installs "
            "Debian's chromium-driver)"
        )
    assert driver is not None and browser is not None
    return driver, browser


@contextlib.contextmanager
def serving(review: Review) -> Iterator[str]:
    """The review server on a free loopback port, in a thread; its page's address."""
    import uvicorn

    # here, not at the top: Starlette would be imported by every pytest run collecting this
    from dubkit.review.server import bind, create_app, loopback_hosts

    sock = bind("127.0.0.1", 0)
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        create_app(review, TOKEN, loopback_hosts(port)), log_level="warning", lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}/?token={TOKEN}"
    finally:
        server.should_exit = True
        thread.join(20)
        sock.close()


@contextlib.contextmanager
def browser(chrome: tuple[str, str], profile: Path) -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chrome[1]
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--mute-audio",
        "--window-size=1500,950",
        "--hide-scrollbars",
        "--lang=en-GB",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(chrome[0]), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def until(driver: Any, check: Callable[[Any], Any], timeout: float = 20) -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=0.05).until(check)


def click(driver: Any, element: Any) -> None:
    """Click `element` in the middle of the window: at its edge the sticky header is on top."""
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
    element.click()


def video_at(driver: Any) -> float:
    """The video's current time, once it has the frame there."""
    script = (
        "const v = document.getElementById('video'); "
        "return v.seeking || v.readyState < 2 ? null : v.currentTime;"
    )
    return float(until(driver, lambda d: d.execute_script(script)))


def test_review_page_in_chromium(
    chrome: tuple[str, str],
    assets: Path,
    base_model_dir: Path,
    pivot_route: Path,
    ffmpeg: str,
    tmp_path: Path,
) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    seminar = assets / "zh-long" / "funasr_vad_example_70s.wav"
    out, memory = tmp_path / "out", tmp_path / "memory.sqlite"
    result = runner.invoke(
        app,
        [
            "run",
            str(seminar),
            "-o",
            str(out),
            "--device",
            "cpu",
            "--memory",
            str(memory),
            "-g",
            str(CPEC),
        ],
    )
    assert result.exit_code == 0, result.output
    video = tmp_path / "programme.mp4"  # a picture for the recording, its sound as it is
    run_ffmpeg(
        ffmpeg,
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=640x360:rate=25",
        "-i",
        str(seminar),
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        "-shortest",
        str(video),
    )
    files = find_programme(out)
    srt = files.path("ur.srt")
    cues = read_srt(srt).cues
    zh = read_srt(files.path("zh.srt")).cues
    lines = build_script(cues, zh, None, None)
    # lines whose Chinese is a whole sentence of its own: saving approves those (half a
    # sentence is never paired with the Urdu of all of it); which lines are depends on
    # what Whisper heard, which depends on the CPU's kernels
    whole = [n for n, line in enumerate(lines) if line.zh.strip() and _whole_source(line, cues, zh)]
    assert len(whole) >= 3, lines
    approve, edit = whole[0], whole[2]
    short = min(range(len(cues)), key=lambda n: cues[n].duration_ms)
    before = srt.read_text(encoding="utf-8").strip().split("\n\n")
    review = Review(files, video, memory=memory)

    with serving(review) as url, browser(chrome, tmp_path / "chromium") as driver:
        driver.get(url)
        rows = until(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "tr.cue"))
        # the cue list: every cue, its Urdu, the Chinese and English under it, its counts
        assert len(rows) == len(cues)
        areas = driver.find_elements(By.CSS_SELECTOR, "td.ur textarea")
        assert [a.get_attribute("value") for a in areas] == [
            "\n".join(strip_bidi(x) for x in c.lines) for c in cues
        ]
        assert all(a.get_attribute("dir") == "rtl" for a in areas)
        shown_zh = [r.find_element(By.CSS_SELECTOR, "td.zh").text for r in rows]
        assert [s.replace("\n", "") for s in shown_zh] == [line.zh for line in lines]
        assert sum(bool(r.find_element(By.CSS_SELECTOR, "td.en").text) for r in rows) >= 3
        assert rows[0].find_element(By.CSS_SELECTOR, ".counts").text.endswith("/17 cps")
        assert f"{len(cues)} cues" in driver.find_element(By.ID, "summary").text

        # a click on a cue seeks the video to its start; the keyboard moves on
        until(
            driver,
            lambda d: d.execute_script("return document.getElementById('video').readyState >= 1"),
        )
        click(driver, rows[edit].find_element(By.CSS_SELECTOR, "td.zh"))
        assert abs(video_at(driver) - cues[edit].start_ms / 1000) < 0.03
        assert "selected" in rows[edit].get_attribute("class")
        overlay = driver.find_element(By.ID, "overlay")
        assert overlay.text.replace("\n", " ") == " ".join(strip_bidi(x) for x in cues[edit].lines)
        driver.find_element(By.TAG_NAME, "body").send_keys("j")
        assert abs(video_at(driver) - cues[edit + 1].start_ms / 1000) < 0.03
        driver.find_element(By.TAG_NAME, "body").send_keys("k")
        assert abs(video_at(driver) - cues[edit].start_ms / 1000) < 0.03

        # "play the cue" plays it and stops at its end
        click(driver, rows[short].find_element(By.CSS_SELECTOR, "td.num"))
        ActionChains(driver).key_down(Keys.ALT).send_keys("p").key_up(Keys.ALT).perform()
        until(
            driver,
            lambda d: d.execute_script("return !document.getElementById('video').paused"),
            10,
        )
        until(
            driver, lambda d: d.execute_script("return document.getElementById('video').paused"), 15
        )
        stopped = driver.execute_script("return document.getElementById('video').currentTime")
        assert cues[short].end_ms / 1000 - 0.05 <= stopped <= cues[short].end_ms / 1000 + 0.3

        # markup typed as Urdu stays text, on the picture too
        area = rows[edit].find_element(By.CSS_SELECTOR, "textarea")
        area.send_keys(Keys.CONTROL, "a")
        area.send_keys(MARKUP)
        until(driver, lambda d: d.find_element(By.ID, "overlay").text == MARKUP)
        assert not overlay.find_elements(By.CSS_SELECTOR, "b, img")
        assert driver.execute_script("return window.pwned") is None

        # edit the Urdu: counts follow as it is typed; approve another line; save
        area.send_keys(Keys.CONTROL, "a")
        area.send_keys(NEW_URDU)
        counts = rows[edit].find_element(By.CSS_SELECTOR, ".counts")
        until(driver, lambda d: counts.text.startswith(f"{len(NEW_URDU)}/42"))
        click(driver, rows[approve].find_element(By.CSS_SELECTOR, "td.num"))
        ActionChains(driver).key_down(Keys.ALT).send_keys("a").key_up(Keys.ALT).perform()
        assert "approved" in rows[approve].get_attribute("class")
        click(driver, driver.find_element(By.ID, "save"))
        until(driver, lambda d: d.find_element(By.ID, "status").text.startswith("saved"))
        assert driver.find_element(By.ID, "status").text == (
            "saved 5 files: 1 changed, 2 approved in the translation memory"
        )

        # the picture with the saved Urdu over it, for the docs
        rows = driver.find_elements(By.CSS_SELECTOR, "tr.cue")
        click(driver, rows[edit].find_element(By.CSS_SELECTOR, "td.zh"))
        video_at(driver)
        until(driver, lambda d: d.find_element(By.ID, "overlay").text == NEW_URDU)
        style = driver.execute_script(
            "const o = getComputedStyle(document.getElementById('overlay'));"
            "return [o.direction, document.fonts.check('24px \"Noto Nastaliq Urdu\"')];"
        )
        assert style == ["rtl", True]
        driver.execute_script("window.scrollTo(0, 0)")
        shot = tmp_path / "review.png"
        driver.save_screenshot(str(shot))

    after = srt.read_text(encoding="utf-8").strip().split("\n\n")
    assert len(after) == len(before)
    assert [b for n, b in enumerate(after) if n != edit] == [
        b for n, b in enumerate(before) if n != edit
    ]
    assert after[edit].split("\n")[2:] == [NEW_URDU]
    with sqlite3.connect(memory) as db:
        approved = set(db.execute("SELECT source, target FROM tm WHERE origin = 'approved'"))
    assert approved == {
        (lines[edit].zh, NEW_URDU),
        (lines[approve].zh, ur_plain(lines[approve].ur)),
    }
    assert shot.stat().st_size > 50_000
    if os.environ.get("DUBKIT_REGEN_DOCS"):
        shutil.copy(shot, ROOT / "docs" / "review.png")
