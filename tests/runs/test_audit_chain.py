"""`qam audit` and the assessments' hash chain (issue 20): a current flag turned off after a run
drops the assessment from the next run and used to leave the audit OK (it re-derives from revision
times); now it fails the audit with exit 4, as does a rewrite of the chain that recomputes every
hash after the edit, caught by the chain head the run recorded."""

from __future__ import annotations

from sqlalchemy import select
from typer.testing import CliRunner

from engine.core.models import COMMON_COLUMNS
from engine.inputs.submissions import canonical_content, content_hash
from engine.store import db as dbm
from engine.store import integrity
from engine.store.integrity import ProblemKind as K
from tests.runs.world import World, qam, sqlite_only


def first_pk(world: World) -> int:
    with world.database.session() as s:
        return int(s.scalar(select(dbm.Assessment.pk).order_by(dbm.Assessment.pk).limit(1)) or 0)


def test_a_current_flag_turned_off_after_a_run_fails_its_audit(world: World) -> None:
    run_id = world.weekly()
    assert world.audit(run_id).ok
    victim = first_pk(world)
    world.sql("UPDATE assessments SET is_current = false WHERE pk = :pk", pk=victim)

    report = world.audit(run_id)

    assert not report.ok
    assert [(p.kind, p.pk, p.revision) for p in report.assessment_problems] == [(K.WRONG_CURRENT, victim, 1)]
    assert report.summary == (
        "FAILED: the stored assessments fail verification (tampered) (a storage or report integrity failure)."
    )


def test_a_consistent_rewrite_of_the_chain_after_a_run_is_caught_by_the_runs_anchor(world: World) -> None:
    """Someone edits one revision's answers, recomputes its content hash, every row_hash after it and
    the heads the submissions recorded: the chain is consistent again, but not with the run's anchor."""
    run_id = world.weekly()
    victim = first_pk(world)
    with world.database.session() as s:
        a = dbm.Assessment
        rows = list(s.scalars(select(a).where(a.pk >= victim).order_by(a.pk)))
        first = rows[0]
        first.answers = first.answers | {
            "bwv_activated": "no" if first.answers["bwv_activated"] == "yes" else "yes"
        }
        common = {c: getattr(first, c) for c in COMMON_COLUMNS}
        first.content_hash = content_hash(canonical_content(common, first.answers))
        integrity.link_rows(integrity.GENESIS_HASH, rows)
        hashes = {r.pk: r.row_hash for r in rows}
        for head in s.scalars(select(dbm.ChainHead).where(dbm.ChainHead.chain == integrity.ASSESSMENT_CHAIN)):
            head.head_hash = hashes[head.position]

    report = world.audit(run_id)

    assert not report.ok
    ((problem,),) = [report.assessment_problems]
    assert problem.kind == K.MISSING_HEAD and problem.pk == rows[-1].pk
    assert f"recorded by run {run_id} is no longer in the chain" in problem.message


def test_a_genuine_amendment_after_a_run_keeps_the_chain_intact(world: World) -> None:
    run_id = world.weekly()
    with world.database.session() as s:
        a = s.scalars(select(dbm.Assessment).order_by(dbm.Assessment.pk).limit(1)).one()
        raw = dict(a.raw)
    world.submit(
        [raw | {"bwv_activated": "no" if raw["bwv_activated"] == "yes" else "yes"}],
        at=a.submitted_at.replace(year=2030),
        amend=True,
    )
    report = world.audit(run_id)
    assert report.assessment_problems == () and report.assessments_checked == 28
    assert report.assessments_line().startswith("Assessments: hash chain of 28 stored revisions intact")


@sqlite_only
def test_cli_audit_names_the_tampered_assessment_and_exits_4(runner: CliRunner, world: World) -> None:
    run_id = world.weekly()
    victim = first_pk(world)
    world.sql("UPDATE assessments SET is_current = false WHERE pk = :pk", pk=victim)
    with world.database.session() as s:
        aid = s.scalar(select(dbm.Assessment.assessment_id).where(dbm.Assessment.pk == victim))

    result = qam(runner, world, "audit", run_id)

    assert result.exit_code == 4, result.output
    lines = result.output.splitlines()
    at = lines.index(
        "Assessments: 1 problem in the stored revisions (tampering; see `qam assessments verify`):"
    )
    assert lines[at + 1].startswith(f"  {aid} revision 1 (pk {victim}): not marked current")
    assert lines[-1].startswith("FAILED: the stored assessments fail verification")
