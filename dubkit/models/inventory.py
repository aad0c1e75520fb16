"""What is installed: translation packages (and broken ones) and the zh→ur route, as rows
for `dubkit models list`."""

from __future__ import annotations

from pathlib import Path
from typing import Any


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
