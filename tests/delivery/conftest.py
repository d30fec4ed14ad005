"""Worlds to deliver: a force file with recipients, a database with the rulesets published and a
week's assessments submitted, and the weekly run of 2026-W47 done. The usual world is built once
on SQLite and copied for each test; a test that needs PostgreSQL or other places builds its own."""

from __future__ import annotations

import datetime as dt
import random
import shutil
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from engine import api
from engine.core.config import DEFAULT_FORMS_DIR, DEFAULT_RULESETS_DIR, Force, Settings, load_force
from engine.core.mail_settings import MailSettings, load_mail_settings
from engine.core.periods import parse_week
from engine.demo.factories import build_row
from engine.inputs.submission_files import write_submission_csv
from engine.runs import delivery, smtp_sender
from engine.runs.delivery import DeliveryReport
from engine.runs.smtp_sender import SmtpSender
from tests.delivery.smtp_server import Server, smtp_server

WEEK = "2026-W47"
MONDAY = "2026-11-16"
#: the usual world: AAA and BBB have a critical failure each, CCC none
PLACES = {
    "AAA": ["Chief Inspector A. One <a.one@example.org>", "Inspector A. Two <a.two@example.org>"],
    "BBB": ["Chief Inspector B. One <b.one@example.org>", "Inspector B. Two <b.two@example.org>"],
    "CCC": ["Chief Inspector C. One <c.one@example.org>"],
}
FORCE_LIST = ["Chief Superintendent F. Example <f.example@example.org>"]


@dataclass(frozen=True)
class World:
    """A force, its database and the week's output folder, with its weekly run done."""

    root: Path
    settings: Settings
    out: Path

    @property
    def force(self) -> Force:
        return load_force(self.settings.force_file)

    @property
    def folder(self) -> Path:
        return self.out / WEEK

    def deliver(
        self, server: Server | None = None, *, env: dict[str, str] | None = None, **sender: Any
    ) -> DeliveryReport:
        """`qam deliver --week 2026-W47` to ``server`` with its settings (and ``env``), without
        waiting between retries; a dry run without a server."""
        mail = mail_settings(server, env)
        with api.database_for(self.settings) as database:
            return delivery.deliver_week(
                database,
                self.force,
                parse_week(WEEK),
                self.out,
                now=api.now,
                dry_run=server is None,
                mail=mail,
                sender=lambda m: SmtpSender(m, **({"backoff": 0, "timeout": 5} | sender)),
            )

    def submit(self, rows: Sequence[dict[str, str]], *, amend: bool = False, name: str = "more.csv") -> None:
        api.submit(self.settings, [write_submission_csv(self.root / name, rows)], amend=amend)

    def rerun(self) -> str:
        return api.weekly(self.settings, WEEK, out=self.out).run_id


def mail_settings(server: Server | None, env: dict[str, str] | None = None) -> MailSettings:
    if server is None:
        return load_mail_settings(env or {}, sending=False)
    return load_mail_settings(server.environ() | (env or {}))


def person(text: str) -> tuple[str, str]:
    name, _, email = text.partition(" <")
    return name, email.rstrip(">")


def force_yaml(places: dict[str, list[str]], force_list: Sequence[str]) -> str:
    def listed(people: Sequence[str], indent: str) -> str:
        return "".join(f"{indent}- {{name: '{n}', email: '{e}'}}\n" for n, e in (person(p) for p in people))

    text = "force: Test Constabulary\n"
    if force_list:
        text += "recipients:\n" + listed(force_list, "  ")
    text += "places:\n"
    for code, people in places.items():
        text += (
            f"  - code: {code}\n    name: Place {code}\n    division: D{code[0]}\n"
            f"    leader: Chief Inspector {code}\n    setting: urban\n"
        )
        if people:
            text += "    recipients:\n" + listed(people, "      ")
    return text


def da_row(place: str, i: int, *, failing: bool) -> dict[str, str]:
    """A domestic abuse assessment; a failing one is a high-risk victim with no MARAC referral (a
    critical failure: an exception on its own)."""
    return build_row(
        "domestic_abuse",
        assessment_id=f"QA-{place}-{i:03d}",
        case_ref=f"DA-{place}-{i:03d}",
        place=place,
        assessed_on=MONDAY,
        case_date="2026-11-10",
        high_risk_no_marac=failing,
    )


def build_world(
    root: Path,
    database_url: str,
    places: dict[str, list[str]],
    force_list: Sequence[str],
    failing: set[str],
    *,
    catalogue: Path | None = None,
) -> World:
    """Write the force file, publish the rulesets (and ``catalogue``, else the bundled one), submit
    one assessment per place (failing for the places in ``failing``) and run the week."""
    root.mkdir(parents=True, exist_ok=True)
    force_file = root / "force.yaml"
    force_file.write_text(force_yaml(places, force_list), encoding="utf-8")
    rulesets = root / "rulesets"
    shutil.copytree(DEFAULT_RULESETS_DIR, rulesets)
    settings = Settings(database_url, force_file, rulesets, DEFAULT_FORMS_DIR)
    if catalogue is not None:
        settings = replace(settings, catalogue_file=catalogue)
    api.init_database(settings)
    api.publish_rulesets(settings, author="test", note="initial")
    world = World(root, settings, root / "out")
    world.submit([da_row(p, 1, failing=p in failing) for p in places], name="week.csv")
    world.rerun()
    return world


@pytest.fixture(scope="session")
def usual_world_template(tmp_path_factory: pytest.TempPathFactory) -> World:
    root = tmp_path_factory.mktemp("usual-world")
    return build_world(root, f"sqlite:///{root / 'qam.db'}", PLACES, FORCE_LIST, {"AAA", "BBB"})


@pytest.fixture
def world(usual_world_template: World, tmp_path: Path) -> World:
    """The usual world (AAA and BBB with exceptions, CCC without), a fresh copy on SQLite."""
    root = tmp_path / "world"
    shutil.copytree(usual_world_template.root, root)
    settings = replace(
        usual_world_template.settings,
        database_url=f"sqlite:///{root / 'qam.db'}",
        force_file=root / "force.yaml",
        rulesets_dir=root / "rulesets",
    )
    return World(root, settings, root / "out")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    """A plain SMTP server on 127.0.0.1."""
    with smtp_server(tmp_path) as running:
        yield running


@pytest.fixture
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """The command line's retries without their waits."""
    monkeypatch.setattr(smtp_sender, "DEFAULT_BACKOFF", 0.0)
    monkeypatch.setattr(smtp_sender, "DEFAULT_TIMEOUT", 5.0)


def shuffled_places(n: int, seed: int) -> dict[str, list[str]]:
    """``n`` places with one to three recipients each, listed in a shuffled order, some people on
    two places' lists (a division commander)."""
    rng = random.Random(seed)
    codes = [f"P{i:02d}" for i in range(n)]
    people = {c: [f"Leader {c} <leader.{c.lower()}@example.org>"] for c in codes}
    for c in codes:
        for k in range(rng.randint(0, 2)):
            people[c].append(f"Deputy {k} of {c} <deputy{k}.{c.lower()}@example.org>")
    for c in rng.sample(codes, n // 4):  # some commanders on two lists
        people[c].append(f"Commander {c[1]} <commander.{c[1]}@example.org>")
    for c in codes:
        rng.shuffle(people[c])
    order = codes[:]
    rng.shuffle(order)
    return {c: people[c] for c in order}


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)
