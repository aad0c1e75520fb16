"""What is installed: speech models, translation packages (and broken ones) and the zh→ur
route, as rows for `dubkit models list`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

_SIZES = ("tiny", "base", "small", "medium", "large-v2", "large-v3", "large-v3-turbo")


def speech_model_rows() -> list[dict[str, Any]]:
    """Every speech model the catalogue knows or the store holds, smallest first: its size,
    where it is, its state, its source and licence, and whether it installs offline."""
    from dubkit.models.store import catalogue, installed_models

    known = catalogue()
    installed = {m.name: m for m in installed_models()}
    rows: list[dict[str, Any]] = []
    for name in sorted(known.keys() | installed.keys(), key=_model_order):
        entry, local = known.get(name), installed.get(name)
        rows.append(
            {
                "name": name,
                "size": local.size if local else entry.size if entry else None,
                "location": str(local.path) if local else None,
                "status": local.status if local else "not installed",
                "source": f"{entry.repo}@{entry.revision[:7]}" if entry else "local folder",
                "licence": entry.licence if entry else None,
                "offline": bool(entry and entry.pypi),
            }
        )
    return rows


def _model_order(name: str) -> tuple[int, str]:
    size = name.split(":", 1)[-1]
    return (_SIZES.index(size) if size in _SIZES else len(_SIZES), name)


def translation_rows(
    extra: list[Path] | None,
) -> tuple[list[dict[str, str]], list[tuple[str, str]], list[dict[str, Any]]]:
    """Installed packages, broken package folders (path, why) and the zh→ur route."""
    from dubkit.models.packages import broken_packages, find_route, installed_packages

    found = installed_packages(extra or ())
    packages = [
        {"pair": p.pair, "version": p.version, "origin": p.origin, "path": str(p.path)}
        for p in found
    ]
    broken = [(str(path), why) for path, why in broken_packages(extra or ())]
    route = find_route("zh", "ur", found)
    routes = [
        {
            "pair": "zh-ur",
            "via": route.description if route else None,
            "kind": route.kind if route else None,
        }
    ]
    return packages, broken, routes
