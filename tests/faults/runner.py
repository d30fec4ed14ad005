"""The warm `qam` runner the kill -9 tests use: zygote.py in a process of its own, one forked child
per command (why: zygote.py's docstring)."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.faults.world import World

ZYGOTE = Path(__file__).with_name("zygote.py")


@dataclass(frozen=True)
class Ran:
    """One command: its pid, seconds from fork to exit, whether SIGKILL ended it, its exit code
    (-9 when killed) and what it printed."""

    pid: int
    elapsed: float
    killed: bool
    returncode: int
    stdout: str
    stderr: str


@dataclass(frozen=True)
class Call:
    """A command to start with others: `qam ARGS` on ``world`` with ``env`` added to its
    environment, ``delay`` seconds after they are released."""

    world: World
    args: tuple[str, ...]
    env: dict[str, str] | None = None
    delay: float = 0.0


def _printed(path: Path) -> str:
    """What a command printed to ``path``; nothing if it was killed before it opened the file."""
    return path.read_text(encoding="utf-8") if path.exists() else ""


class Zygote:
    """A warm interpreter (zygote.py) that runs each `qam` command in a child of its own."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(ZYGOTE)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )

    def run(
        self,
        world: World,
        *args: str,
        kill_after: float | None = None,
        env: dict[str, str] | None = None,
        die_renaming: str | None = None,
    ) -> Ran:
        """`qam ARGS` on ``world`` (in its folder, with its environment and ``env``), sent SIGKILL
        after ``kill_after`` seconds unless it has finished by then, or killing itself as it is
        about to rename a path whose name matches the regular expression ``die_renaming``."""
        request = self._request(world, args, env, "qam")
        request["kill_after"] = kill_after
        request["die_renaming"] = die_renaming
        return self._ran(request, self._ask(request))

    def together(self, calls: list[Call]) -> list[Ran]:
        """The calls' commands started at once, each after its delay; what each did."""
        requests = [self._request(c.world, c.args, c.env, f"qam-{i}") for i, c in enumerate(calls)]
        for request, call in zip(requests, calls, strict=True):
            request["delay"] = call.delay
        answers = self._ask({"together": requests})
        return [self._ran(r, a) for r, a in zip(requests, answers, strict=True)]

    @staticmethod
    def _request(
        world: World, args: tuple[str, ...], env: dict[str, str] | None, name: str
    ) -> dict[str, Any]:
        return {
            "args": list(args),
            "env": {**world.env, **(env or {})},
            "cwd": str(world.root),
            "stdout": str(world.root / f"{name}.stdout"),
            "stderr": str(world.root / f"{name}.stderr"),
        }

    def _ask(self, request: dict[str, Any]) -> Any:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        answer = self.process.stdout.readline()
        assert answer, f"the zygote died (exit {self.process.poll()})"
        return json.loads(answer)

    @staticmethod
    def _ran(request: dict[str, Any], found: dict[str, Any]) -> Ran:
        return Ran(
            found["pid"],
            found["elapsed"],
            found["killed"],
            found["returncode"],
            _printed(Path(request["stdout"])),
            _printed(Path(request["stderr"])),
        )

    def close(self) -> None:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.close()
        self.process.wait(timeout=30)
        self.process.stdout.close()
