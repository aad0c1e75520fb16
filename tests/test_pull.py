"""`models pull argos:zh-ur` against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dubkit.adapters.modelfiles import MODEL_FILES
from dubkit.cli import app
from dubkit.errors import ModelUnavailable
from dubkit.models.packages import installed_packages, pull_route
from tests.conftest import PackageServer

runner = CliRunner()


def test_pull_installs_the_pivot_route(server: PackageServer, argos_files: dict[str, Path]) -> None:
    url = server.index(
        [
            server.entry("zh-en", argos_files["zh-en"]),
            server.entry("en-ur", argos_files["en-ur"]),
        ]
    )
    result = runner.invoke(app, ["models", "pull", "argos:zh-ur", "--index", url])
    assert result.exit_code == 0, result.output
    assert sorted(p.pair for p in installed_packages()) == ["en-ur", "zh-en"]
    assert server.hits.count("/index.json") == 1
    # a second pull reads the cached index and finds both packages installed: no downloads
    server.hits.clear()
    again = runner.invoke(app, ["models", "pull", "argos:zh-ur", "--index", url])
    assert again.exit_code == 0, again.output
    assert server.hits == []
    listing = runner.invoke(app, ["models", "list", "--json"])
    assert json.loads(listing.stdout)["routes"][0]["via"] == "zh→en→ur"


def test_pull_prefers_a_direct_package(server: PackageServer, argos_files: dict[str, Path]) -> None:
    url = server.index(
        [
            server.entry("zh-en", argos_files["zh-en"]),
            server.entry("en-ur", argos_files["en-ur"]),
            server.entry("zh-ur", argos_files["zh-ur"]),
        ]
    )
    assert [p.pair for p in pull_route("zh", "ur", url, checks=MODEL_FILES)] == ["zh-ur"]


def test_truncated_download_installs_nothing(
    server: PackageServer, argos_files: dict[str, Path], isolated_packages: Path
) -> None:
    entry = server.entry("zh-en", argos_files["zh-en"])
    server.truncate.add(f"/v1/{argos_files['zh-en'].name}")
    url = server.index([entry, server.entry("en-ur", argos_files["en-ur"])])
    result = runner.invoke(app, ["models", "pull", "argos:zh-ur", "--index", url])
    assert result.exit_code == 1
    assert "cut off" in result.output and "nothing was installed" in result.output
    assert "zh-en" not in [p.pair for p in installed_packages()]
    downloads = isolated_packages.parent / "dubkit-cache" / "downloads"
    assert list(downloads.iterdir()) == []  # no partial file left


def test_checksum_mismatch_installs_nothing(
    server: PackageServer, argos_files: dict[str, Path]
) -> None:
    wrong = hashlib.sha256(b"something else").hexdigest()
    url = server.index(
        [
            server.entry("zh-en", argos_files["zh-en"], sha256=wrong),
            server.entry("en-ur", argos_files["en-ur"]),
        ]
    )
    with pytest.raises(ModelUnavailable, match="does not match the index"):
        pull_route("zh", "ur", url, checks=MODEL_FILES)
    assert "zh-en" not in [p.pair for p in installed_packages()]


def test_right_checksum_is_accepted(server: PackageServer, argos_files: dict[str, Path]) -> None:
    digest = hashlib.sha256(argos_files["zh-en"].read_bytes()).hexdigest()
    url = server.index([server.entry("zh-en", argos_files["zh-en"], sha256=digest)])
    assert [p.pair for p in pull_route("zh", "en", url, checks=MODEL_FILES)] == ["zh-en"]


def test_package_that_is_not_what_the_index_says(
    server: PackageServer, argos_files: dict[str, Path]
) -> None:
    """An index entry for zh→en whose file is really en→ur."""
    entry = server.entry("en-ur", argos_files["en-ur"])
    entry.update(from_code="zh", to_code="en")
    url = server.index([entry])
    with pytest.raises(ModelUnavailable, match="holds a en-ur package, expected zh-en"):
        pull_route("zh", "en", url, checks=MODEL_FILES)
    assert installed_packages() == []


def test_no_route_in_index(server: PackageServer, argos_files: dict[str, Path]) -> None:
    url = server.index([server.entry("zh-en", argos_files["zh-en"])])
    with pytest.raises(ModelUnavailable, match=r"no zh→ur route.*lists zh-en"):
        pull_route("zh", "ur", url, checks=MODEL_FILES)


def test_unreachable_index_uses_cache_then_fails_clearly(
    server: PackageServer, argos_files: dict[str, Path]
) -> None:
    url = server.index([server.entry("zh-en", argos_files["zh-en"])])
    pull_route("zh", "en", url, checks=MODEL_FILES)
    server.close()
    notices: list[str] = []
    # cached index, package already installed: works offline, says so when refreshing
    again = pull_route("zh", "en", url, refresh=True, notices=notices, checks=MODEL_FILES)
    assert [p.pair for p in again] == ["zh-en"]
    assert notices and "using the cached index" in notices[0]
    result = runner.invoke(app, ["models", "pull", "argos:zh-ur", "--index", url + "?other"])
    assert result.exit_code == 1
    assert "cannot fetch" in result.output and "dubkit models install" in result.output


def test_index_from_argos_environment(
    server: PackageServer, argos_files: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """ARGOS_PACKAGE_INDEX is a base URL in Argos; dubkit appends index.json the same way."""
    server.index([server.entry("zh-en", argos_files["zh-en"])])
    monkeypatch.setenv("ARGOS_PACKAGE_INDEX", server.url + "/")
    assert [p.pair for p in pull_route("zh", "en", checks=MODEL_FILES)] == ["zh-en"]


def test_bad_pull_names() -> None:
    result = runner.invoke(app, ["models", "pull", "argos:zh"])
    assert result.exit_code == 1
    assert "use argos:FROM-TO" in result.output


def test_index_from_dubkit_toml(
    server: PackageServer, argos_files: dict[str, Path], tmp_path: Path
) -> None:
    url = server.index([server.entry("zh-en", argos_files["zh-en"])])
    config = tmp_path / "dubkit.toml"
    config.write_text(f'[translate]\nindex = "{url}"\n', encoding="utf-8")
    result = runner.invoke(app, ["models", "pull", "argos:zh-en", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert server.hits[0] == "/index.json"


def test_damaged_index_cache_is_fetched_again(
    server: PackageServer, argos_files: dict[str, Path], isolated_packages: Path
) -> None:
    url = server.index([server.entry("zh-en", argos_files["zh-en"])])
    pull_route("zh", "en", url, checks=MODEL_FILES)
    (cached,) = (isolated_packages.parent / "dubkit-cache").glob("argos-index-*.json")
    cached.write_text("{broken", encoding="utf-8")
    server.hits.clear()
    assert [p.pair for p in pull_route("zh", "en", url, checks=MODEL_FILES)] == ["zh-en"]
    assert server.hits == ["/index.json"]
