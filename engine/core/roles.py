"""Officers' roles (roles.yaml in the force's configuration folder; docs/officers.md): each role's
team-name patterns and up to five key aspects, a criterion ``<ruleset>/<criterion id>`` or an
extract metric id. Read and shape-checked here; the aspects are checked against the rulesets and
extract definitions in use by :func:`check_aspects`, every problem as ``file:line: message``."""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path

from engine.core.errors import ConfigError, Location, Problem, ProblemsError, problems_summary
from engine.core.shape import suggest
from engine.core.yamlio import LineDict, LineList, load_yaml

MAX_ASPECTS = 5
DEFAULT_MIN_CASES = 5
_KEYS = {"format", "version", "min_cases", "roles"}
_ROLE_KEYS = {"name", "teams", "aspects"}


class RolesError(ProblemsError):
    """roles.yaml is invalid."""


@dataclass(frozen=True)
class Aspect:
    """One key aspect of a role: a criterion (``ruleset`` and ``criterion``) or a metric."""

    key: str
    line: int

    @property
    def is_criterion(self) -> bool:
        return "/" in self.key

    @property
    def ruleset(self) -> str:
        return self.key.split("/", 1)[0] if self.is_criterion else ""

    @property
    def criterion(self) -> str:
        return self.key.split("/", 1)[1] if self.is_criterion else ""


@dataclass(frozen=True)
class Role:
    id: str
    name: str
    teams: tuple[str, ...]
    aspects: tuple[Aspect, ...]

    def matches(self, team: str) -> bool:
        return any(fnmatch.fnmatchcase(team.casefold(), p.casefold()) for p in self.teams)


@dataclass(frozen=True)
class Roles:
    roles: tuple[Role, ...]
    min_cases: int
    path: str
    version: str = ""

    def role_of(self, team: str) -> Role | None:
        """The first role (in file order) one of whose team patterns matches ``team``."""
        return next((r for r in self.roles if r.matches(team)), None)


def load_roles(path: Path) -> Roles:
    """Read and shape-check roles.yaml; RolesError lists every problem at once."""
    if not path.is_file():
        raise ConfigError(
            f"roles file {path} does not exist",
            hint="Copy the bundled roles.yaml into the force's configuration folder (docs/officers.md).",
        )
    data = load_yaml(path)
    src, problems = str(path), []

    def bad(line: int | None, message: str) -> None:
        problems.append(Problem(Location(src, line), message))

    if not isinstance(data, LineDict):
        raise RolesError(
            f"invalid roles: {path} is not a mapping", [Problem(Location(src, 1), "expected a mapping")]
        )
    for key in data:
        if key not in _KEYS:
            bad(data.line_of(key), f"unknown key '{key}'{suggest(str(key), _KEYS)}")
    if data.get("format") != 1:
        bad(data.line_of("format") or 1, "'format' must be 1")
    min_cases = data.get("min_cases", DEFAULT_MIN_CASES)
    if isinstance(min_cases, bool) or not isinstance(min_cases, int) or min_cases < 1:
        bad(data.line_of("min_cases"), f"'min_cases' must be a whole number of at least 1, got {min_cases!r}")
        min_cases = DEFAULT_MIN_CASES
    body = data.get("roles")
    roles: list[Role] = []
    if not isinstance(body, LineDict) or not body:
        bad(data.line_of("roles") or 1, "'roles' must map each role id to its name, teams and aspects")
        body = LineDict()
    for role_id, spec in body.items():
        line = body.line_of(role_id)
        if not isinstance(spec, LineDict):
            bad(line, f"role {role_id}: expected a mapping with name, teams and aspects")
            continue
        role = _role(str(role_id), spec, line, bad)
        if role is not None:
            roles.append(role)
    if problems:
        raise RolesError(f"invalid roles: {problems_summary(problems, 'file')}", problems)
    return Roles(tuple(roles), int(min_cases), src, str(data.get("version", "")))


def _role(role_id: str, spec: LineDict, line: int, bad: Callable[[int | None, str], None]) -> Role | None:
    for key in spec:
        if key not in _ROLE_KEYS:
            bad(spec.line_of(key), f"role {role_id}: unknown key '{key}'{suggest(str(key), _ROLE_KEYS)}")
    teams, aspects = spec.get("teams"), spec.get("aspects")
    ok = True
    if (
        not isinstance(teams, LineList)
        or not teams
        or not all(isinstance(t, str) and t.strip() for t in teams)
    ):
        bad(spec.line_of("teams") or line, f"role {role_id}: 'teams' must be a list of team-name patterns")
        ok = False
    if not isinstance(aspects, LineList) or not aspects:
        bad(
            spec.line_of("aspects") or line,
            f"role {role_id}: 'aspects' must list one to {MAX_ASPECTS} key aspects",
        )
        return None
    if len(aspects) > MAX_ASPECTS:
        bad(aspects.line_of(MAX_ASPECTS), f"role {role_id}: {len(aspects)} aspects, at most {MAX_ASPECTS}")
        ok = False
    seen: set[str] = set()
    kept: list[Aspect] = []
    for i, value in enumerate(aspects):
        at = aspects.line_of(i)
        if not isinstance(value, str) or not value.strip():
            bad(at, f"role {role_id}: an aspect is '<ruleset>/<criterion id>' or a metric id, got {value!r}")
            ok = False
        elif value in seen:
            bad(at, f"role {role_id}: aspect '{value}' is listed twice")
            ok = False
        else:
            seen.add(value)
            kept.append(Aspect(value.strip(), at))
    if not ok:
        return None
    name = spec.get("name", role_id)
    return Role(role_id, str(name), tuple(str(t) for t in teams), tuple(kept))  # type: ignore[union-attr]


def check_aspects(roles: Roles, criteria: Collection[str], metrics: Collection[str]) -> None:
    """RolesError naming file:line for every aspect that is neither a criterion ``<ruleset>/<id>`` of
    the rulesets in use nor a metric of the extract definitions."""
    problems: list[Problem] = []
    rulesets = {c.split("/", 1)[0] for c in criteria}
    for role in roles.roles:
        for a in role.aspects:
            if a.is_criterion and a.key not in criteria:
                if a.ruleset not in rulesets:
                    why = f"unknown ruleset '{a.ruleset}'{suggest(a.ruleset, rulesets, list_known=False)}"
                else:
                    ids = [c.split("/", 1)[1] for c in criteria if c.startswith(a.ruleset + "/")]
                    why = f"ruleset {a.ruleset} has no criterion '{a.criterion}'{suggest(a.criterion, ids)}"
                problems.append(
                    Problem(Location(roles.path, a.line), f"role {role.id}: aspect '{a.key}': {why}")
                )
            elif not a.is_criterion and a.key not in metrics:
                hint = suggest(a.key, metrics, list_known=False)
                problems.append(
                    Problem(
                        Location(roles.path, a.line),
                        f"role {role.id}: aspect '{a.key}' is not a criterion (<ruleset>/<criterion id>) "
                        f"nor a metric of the extract definitions{hint}",
                    )
                )
    if problems:
        raise RolesError(f"invalid roles: {problems_summary(problems, 'file')}", problems)
