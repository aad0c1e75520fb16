"""The fork server behind tests/conftest.py's capped_dubkit.

Starting `python -m dubkit` costs about 0.5 s here, most of it importing typer, rich, pydantic
and ruamel; the hostile-input tests start it some forty times. This process imports what a
dubkit command imports once, then forks one child per job. The child takes the job's folder,
environment, address-space cap and output files, runs `python -m dubkit ARGS` as the
interpreter would (runpy, with `cwd` and PYTHONPATH first on sys.path) and ends the way that
process would: its exit status, a traceback on stderr for an uncaught exception, atexit
handlers run.

dubkit itself is imported again by each child, after its environment is set (dubkit reads its
DUBKIT_* limits when it is imported): this process drops its own dubkit modules once the
libraries they pulled in are loaded.

Protocol: one JSON job per line on stdin; two lines back per job: the child's pid as soon as
it runs, then its exit code (negative: the signal that ended it). EOF on stdin ends the server.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import runpy
import sys
from importlib.machinery import SourceFileLoader
from pathlib import Path


def _warm() -> None:
    """Import the libraries a dubkit command starts with and compile every dubkit module,
    then forget dubkit itself."""
    import rich.console
    import rich.progress
    import rich.table
    import rich.text  # noqa: F401
    import ruamel.yaml.composer
    import ruamel.yaml.constructor  # noqa: F401
    import typer.main

    _keep_compiled_code()
    from dubkit.cli.root import app

    typer.main.get_command(app)
    from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator  # noqa: F401

    package = Path(sys.modules["dubkit"].__file__ or "").parent
    for source in package.rglob("*.py"):  # compiled, not run: adapters import heavy libraries
        name = ".".join(source.relative_to(package.parent).with_suffix("").parts)
        SourceFileLoader(name, str(source)).get_code(name)
    for name in [m for m in sys.modules if m == "dubkit" or m.startswith("dubkit.")]:
        del sys.modules[name]


def _keep_compiled_code() -> None:
    """Where PYTHONDONTWRITEBYTECODE is set dubkit has no .pyc files, and each child would
    compile every module it imports again (0.15 s): the code compiled here, keyed by the file
    and its bytes, is what the children get."""
    compiled: dict[tuple[str, bytes, int], object] = {}
    compile_source = SourceFileLoader.source_to_code

    def source_to_code(
        self: SourceFileLoader, data: bytes, path: str, *, _optimize: int = -1
    ) -> object:
        key = (path, bytes(data), _optimize)
        if key not in compiled:
            compiled[key] = compile_source(self, data, path, _optimize=_optimize)
        return compiled[key]

    SourceFileLoader.source_to_code = source_to_code  # type: ignore[method-assign,assignment]


def _child(job: dict[str, object]) -> None:
    os.setpgid(0, 0)  # a timeout kills the child and whatever it started
    memory = int(job["memory"])  # type: ignore[call-overload]
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    os.chdir(str(job["cwd"]))
    os.environ.clear()
    os.environ.update(job["env"])  # type: ignore[arg-type]
    for fd, path, flags in (
        (0, os.devnull, os.O_RDONLY),
        (1, str(job["stdout"]), os.O_WRONLY),
        (2, str(job["stderr"]), os.O_WRONLY),
    ):
        opened = os.open(path, flags)
        os.dup2(opened, fd)
        os.close(opened)
    sys.stdin = open(os.devnull, encoding="utf-8")  # noqa: SIM115 (this process's stdin, for good)
    sys.path[0] = str(job["cwd"])  # as `python -m` puts it
    sys.path.insert(1, str(job["pythonpath"]))
    sys.argv = ["dubkit", *job["args"]]  # type: ignore[misc]
    runpy.run_module("dubkit", run_name="__main__", alter_sys=True)


def main() -> None:
    _warm()
    for line in sys.stdin:
        job = json.loads(line)
        pid = os.fork()
        if pid == 0:
            _child(job)
            sys.exit(0)  # SystemExit, or an uncaught exception, ends the child here as in Python
        with contextlib.suppress(OSError):  # here too: the pid must lead its group when sent
            os.setpgid(pid, pid)
        print(pid, flush=True)
        _, status = os.waitpid(pid, 0)
        print(os.waitstatus_to_exitcode(status), flush=True)


if __name__ == "__main__":
    main()
