from __future__ import annotations

from pathlib import Path

import pytest

from dubkit.config import Config, RecognitionConfig, load_config, resolve_profile, with_flags
from dubkit.errors import ConfigError


def test_no_config_means_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    cfg = load_config(None)
    assert cfg == Config()
    profile = resolve_profile(None, cfg)
    assert profile.name == "zh-broadcast"
    assert (profile.max_chars_per_line, profile.max_lines, profile.fps) == (16, 2, 25.0)
    assert cfg.transcribe.model == "whisper:base"
    assert (cfg.translate.beam_size, cfg.translate.layout) == (4, "sentence")


def test_config_profile_and_flag_override(tmp_path: Path) -> None:
    path = tmp_path / "dubkit.toml"
    path.write_text(
        '[transcribe]\nprofile = "ptv"\nbeam_size = 3\nhotwords = ["中巴经济走廊"]\n'
        '[profiles.ptv]\nbase = "zh-broadcast"\nmax_chars_per_line = 14\n',
        encoding="utf-8",
    )
    cfg = load_config(path)
    profile = resolve_profile(None, cfg, {"max_lines": 1, "fps": None})
    assert (profile.name, profile.max_chars_per_line, profile.max_lines) == ("ptv", 14, 1)
    assert cfg.transcribe.beam_size == 3
    assert cfg.transcribe.hotwords == ("中巴经济走廊",)
    # a flag given wins over the file, one not given (None) leaves it
    assert with_flags(cfg.transcribe, beam_size=7, vad=None).beam_size == 7
    assert with_flags(cfg.transcribe, beam_size=None).beam_size == 3
    assert with_flags(RecognitionConfig(), vad=False).vad is False


def test_recognition_switches_from_config(tmp_path: Path) -> None:
    path = tmp_path / "dubkit.toml"
    path.write_text("[transcribe]\nglossary_bias = false\nguard = true\n", encoding="utf-8")
    defaults = load_config(path).transcribe
    assert (defaults.glossary_bias, defaults.guard, defaults.recover) == (False, True, True)
    path.write_text("[transcribe]\ngaurd = false\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="gaurd"):
        load_config(path)


def test_the_example_config_is_valid() -> None:
    example = Path(__file__).resolve().parent.parent / "examples" / "dubkit.toml"
    cfg = load_config(example)
    assert cfg.profiles
    for name in cfg.profiles:
        resolve_profile(name, cfg)
    assert cfg.translate.route == "auto"


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("[transcribe\n", "invalid TOML"),
        ('[transcribe]\nbeam_size = "five"\n', "transcribe.beam_size"),
        ("[transcribe]\nbeam = 5\n", "transcribe.beam"),
        ("[profiles.x]\nmax_lines = 0\n", "profiles.x.max_lines"),
        ('[translate]\nroute = "sideways"\n', "translate.route"),
        ('[translate]\ndigits = "roman"\n', "translate.digits"),
    ],
)
def test_bad_config_names_the_problem(tmp_path: Path, text: str, needle: str) -> None:
    path = tmp_path / "dubkit.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert needle in str(err.value)
    assert str(path) in str(err.value)
    assert "\n" not in str(err.value)


def test_impossible_profile_and_unknown_names() -> None:
    cfg = Config(profiles={"loop": {"base": "loop"}, "tight": {"max_duration_ms": 500}})
    with pytest.raises(ConfigError, match="based on itself"):
        resolve_profile("loop", cfg)
    with pytest.raises(ConfigError, match="max_duration_ms"):
        resolve_profile("tight", cfg)
    with pytest.raises(ConfigError, match="unknown profile 'nope'"):
        resolve_profile("nope", cfg)
    with pytest.raises(ConfigError, match="max_chars_per_line"):
        resolve_profile(None, Config(), {"max_chars_per_line": 0})


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "absent.toml")


def test_files_named_in_the_config_are_relative_to_it(tmp_path: Path) -> None:
    folder = tmp_path / "series"
    folder.mkdir()
    path = folder / "dubkit.toml"
    path.write_text(
        '[glossary]\nfiles = ["terms.yaml"]\n'
        '[translate]\nmemory = "tm.sqlite"\npackages = ["argos", "/opt/argos"]\n',
        encoding="utf-8",
    )
    cfg = load_config(path)
    assert cfg.glossary_files == (folder / "terms.yaml",)
    # the memory and package folders too, wherever the command runs from
    assert cfg.translate.memory == str(folder / "tm.sqlite")
    assert cfg.translate.packages == (str(folder / "argos"), "/opt/argos")


_HOSTILE_CONFIGS = {
    "deep arrays": "x = " + "[" * 100_000 + "]" * 100_000 + "\n",
    "deep tables": "x = " + "{a = " * 5_000 + "1" + "}" * 5_000 + "\n",
    "binary": "\x00\xff\xfe garbage".encode("latin-1"),
    "huge": "# " + "x" * (2 * 2**20) + "\n",
}


@pytest.mark.parametrize("kind", list(_HOSTILE_CONFIGS))
def test_a_hostile_config_is_one_line_config_error(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "dubkit.toml"
    body = _HOSTILE_CONFIGS[kind]
    path.write_bytes(body if isinstance(body, bytes) else body.encode())
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert message.startswith(str(path)) and "\n" not in message and len(message) < 400


@pytest.mark.parametrize("special", ["fifo", "/dev/zero", "folder"])
def test_a_config_that_is_no_regular_file_is_refused_without_reading(
    tmp_path: Path, special: str
) -> None:
    import os
    import signal

    path = tmp_path / "dubkit.toml"
    if special == "fifo":
        os.mkfifo(path)
    elif special == "folder":
        path.mkdir()
    else:
        path = Path(special)

    def hung(signum: int, frame: object) -> None:
        raise TimeoutError("load_config blocked or read for ever")

    old = signal.signal(signal.SIGALRM, hung)
    signal.alarm(10)  # a read that blocks (FIFO) or never ends (/dev/zero) fails the test
    try:
        with pytest.raises(ConfigError, match="not a regular file"):
            load_config(path)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


@pytest.mark.parametrize(
    "body", ['[glossary]\nfiles = ["a\\u0000b.yaml"]\n', '[translate]\nmemory = "\\u0000"\n']
)
def test_a_nul_in_a_path_setting_is_one_config_error(tmp_path: Path, body: str) -> None:
    path = tmp_path / "dubkit.toml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(ConfigError, match="NUL"):
        load_config(path)
