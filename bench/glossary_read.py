"""Reading a glossary: libyaml (dubkit since 2026-12-07) against ruamel's round-trip reader
(dubkit before, still its reader wherever libyaml hands a file back) and PyYAML's plain C
load (what reading the same file costs a script that needs no line numbers).

    .venv/bin/python bench/glossary_read.py [--terms 1000 5000] [--repeat 5]

Glossaries: the shipped glossaries/cpec-media.yaml, and generated ones of N terms written as
it is (a comment line every 20 entries, zh, two variants, en, ur, short, type, a quoted note,
an approval date; Chinese and Urdu drawn from a fixed seed). For each, in one process,
alternating, the median of `--repeat` runs of:

- dubkit: `parse_glossary` (read, schema, every term's places), as every command reads one;
- ruamel: the same with libyaml's reader switched off;
- pyyaml-c: `yaml.load(text, Loader=yaml.CSafeLoader)`, values only.

Then `dubkit glossary check FILE` in fresh processes, both readers (two runs each,
alternating), whose printed reports must be identical. Prints a Markdown report for
bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "glossaries" / "cpec-media.yaml"
RUAMEL_ONLY = (
    "import sys, dubkit.glossary.terms as t; t.read_tree = lambda text: None; "
    "from dubkit.cli import main; sys.argv[0] = 'dubkit'; main()"
)


def generated(n: int, seed: int = 7) -> str:
    rng = random.Random(seed)

    def han(k: int) -> str:
        return "".join(chr(rng.randrange(0x4E00, 0x9FA5)) for _ in range(k))

    def urdu(words: int) -> str:
        letters = "ابپتٹثجچحخدڈذرڑزژسشصضطظعغفقکگلمنوہھیے"
        return " ".join(
            "".join(rng.choice(letters) for _ in range(rng.randrange(2, 7))) for _ in range(words)
        )

    out = [
        "# A generated glossary for bench/glossary_read.py: the shipped file's shape.\n\n",
        'name: generated\nversion: "1"\nscope: global\nincludes: []\nterms:\n',
    ]
    for i in range(n):
        if i % 20 == 0:
            out.append(f"\n  # {'-' * 60} section {i // 20}\n\n")
        zh = han(rng.randrange(3, 8)) + str(i)
        out.append(
            f"  - zh: {zh}\n"
            f"    variants: [{han(4)}{i}, {han(5)}{i}]\n"
            f"    en: Generated term {i}\n"
            f"    ur: {urdu(3)}\n"
            f"    short: {urdu(1)}\n"
            f"    type: term\n"
            f'    note: "Entry {i}: {han(6)}, written as {urdu(2)}."\n'
            f"    approved: 2026-11-26\n\n"
        )
    return "".join(out)


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def in_process(text: str, repeat: int) -> dict[str, float]:
    import yaml

    from dubkit.glossary import terms

    fast_reader = terms.read_tree

    def dubkit() -> None:
        terms.read_tree = fast_reader
        glossary, _, issues = terms.parse_glossary(text, "g.yaml")
        assert glossary is not None and not issues, issues[:1]

    def ruamel() -> None:
        terms.read_tree = lambda _text: None
        try:
            glossary, _, issues = terms.parse_glossary(text, "g.yaml")
            assert glossary is not None and not issues, issues[:1]
        finally:
            terms.read_tree = fast_reader

    def pyyaml_c() -> None:
        yaml.load(text, Loader=yaml.CSafeLoader)

    variants = {"dubkit": dubkit, "ruamel": ruamel, "pyyaml-c": pyyaml_c}
    for fn in variants.values():
        fn()  # imports, caches
    runs: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(repeat):
        for name, fn in variants.items():
            runs[name].append(timed(fn))
    return {name: statistics.median(times) for name, times in runs.items()}


def check_command(path: Path) -> dict[str, float]:
    dubkit = [sys.executable, "-m", "dubkit", "glossary", "check", str(path)]
    ruamel = [sys.executable, "-c", RUAMEL_ONLY, "glossary", "check", str(path)]
    runs: dict[str, list[float]] = {"dubkit": [], "ruamel": []}
    said: dict[str, set[tuple[int, str]]] = {"dubkit": set(), "ruamel": set()}
    for _ in range(2):
        for name, argv in (("dubkit", dubkit), ("ruamel", ruamel)):
            start = time.perf_counter()
            done = subprocess.run(argv, capture_output=True, text=True, cwd=path.parent)
            runs[name].append(time.perf_counter() - start)
            said[name].add((done.returncode, done.stdout + done.stderr))
    if said["dubkit"] != said["ruamel"] or len(said["dubkit"]) != 1:
        raise SystemExit(f"glossary check said different things: {said}")
    return {name: statistics.median(times) for name, times in runs.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--terms", type=int, nargs="+", default=[1000, 5000])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    from importlib.metadata import version

    from asr import cpu_name  # bench/asr.py, beside this script

    print(
        f"Machine: {cpu_name()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"ruamel.yaml {version('ruamel.yaml')}, PyYAML {version('PyYAML')}\n"
    )
    print(
        "| glossary | terms | KB | dubkit s | ruamel s | pyyaml-c s | ruamel / dubkit "
        "| dubkit / pyyaml-c | `glossary check` dubkit s | ruamel s |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory() as tmp:
        files = [(SHIPPED.name, SHIPPED)]
        for n in args.terms:
            path = Path(tmp) / f"generated-{n}.yaml"
            path.write_text(generated(n), encoding="utf-8")
            files.append((f"generated ({n})", path))
        for label, path in files:
            text = path.read_text(encoding="utf-8")
            count = text.count("\n  - zh: ")
            t = in_process(text, args.repeat)
            c = check_command(path)
            print(
                f"| {label} | {count} | {len(text.encode()) // 1024} | {t['dubkit']:.3f} "
                f"| {t['ruamel']:.3f} | {t['pyyaml-c']:.3f} | {t['ruamel'] / t['dubkit']:.1f} "
                f"| {t['dubkit'] / t['pyyaml-c']:.1f} | {c['dubkit']:.2f} | {c['ruamel']:.2f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
