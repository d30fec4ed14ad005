"""`qam deliver`: e-mail a week's briefings to their recipients, exactly once, or show the log."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from engine import api
from engine.cli.console import print_table, settings_of, user_errors
from engine.core.errors import ExitCode, UsageError

if TYPE_CHECKING:
    from engine.runs.delivery import DeliveryReport, DeliveryStatus


def deliver(
    ctx: typer.Context,
    week: Annotated[str, typer.Option("--week", help="ISO week, e.g. 2026-W47")],
    out: Annotated[
        Path,
        typer.Option(
            "--out", help="output folder, as given to qam weekly (the week's files are in OUT/WEEK)"
        ),
    ] = Path("outputs"),
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="write each message as an .eml file into OUT/WEEK-mail/; send and record nothing",
        ),
    ] = False,
    status: Annotated[
        bool,
        typer.Option("--status", help="show the week's delivery log and what is still owed; send nothing"),
    ] = False,
) -> None:
    """E-mail each place's briefing of the week (its PDF and cases CSV, its exceptions in the message)
    to that place's recipients in the force file, and force.pdf to the force's recipients: only
    places with exceptions, each person once. A new run of the week sends an update replacing the
    earlier briefing, or nothing if the place's exceptions did not change. Mail settings come from
    QAM_SMTP_HOST, QAM_SMTP_PORT, QAM_SMTP_SECURITY, QAM_SMTP_USER, QAM_SMTP_PASSWORD, QAM_MAIL_FROM
    and QAM_MAIL_MAX_MB (docs/delivery.md). Exit 4 while any message is undelivered; run it again
    later to send only those.

    Example: qam deliver --week 2026-W47 --dry-run
    """
    with user_errors():
        if dry_run and status:
            raise UsageError("--dry-run and --status cannot be given together")
        if status:
            print_status(api.delivery_status(settings_of(ctx), week, out=out))
            return
        report = api.deliver(settings_of(ctx), week, out=out, dry_run=dry_run)
    print_report(report)
    if not report.complete:
        raise typer.Exit(int(ExitCode.STORAGE))


def print_report(report: DeliveryReport) -> None:
    """What was sent (or written), then, on stderr, one Error: block for whatever was not."""
    sent = sum(1 for o in report.outcomes if o.outcome in ("delivered", "written"))
    if report.dry_run:
        where = f"written to {report.mail_folder}; nothing sent, nothing recorded"
        typer.echo(f"DRY RUN {report.week} (run {report.run_id}): {sent} message{_s(sent)} {where}")
    else:
        typer.echo(
            f"{report.week} (run {report.run_id}): {sent} message{_s(sent)} delivered through {report.server}; "
            f"{len(report.unchanged)} unchanged since an earlier run, {report.settled} already delivered"
        )
    shown = (*report.outcomes, *report.unchanged)
    if shown:
        details = any(o.outcome != "delivered" for o in shown)
        columns = ("place", "recipient", "kind", "outcome", *(("detail",) if details else ()))
        print_table(
            columns,
            [
                (
                    o.place,
                    o.recipient.address(),
                    o.kind,
                    o.outcome,
                    *((o.detail if o.outcome != "delivered" else "",) if details else ()),
                )
                for o in shown
            ],
        )
    problems = [f"{o.place} to {o.recipient.email}: {o.outcome}: {o.detail}" for o in report.undelivered]
    problems += [
        f"{place}: exceptions, but nobody to send them to ({field} in the force file)"
        for place, field in report.no_recipients
    ]
    if problems:
        again = (
            "" if report.dry_run else f" (`qam deliver --week {report.week}` later sends only what is owed)"
        )
        typer.echo(f"Error: not everything can be delivered{again}:\n" + "\n".join(problems), err=True)


def print_status(status: DeliveryStatus) -> None:
    """The week's log, each message's latest outcome per run, then what a `qam deliver` would send."""
    if status.rows:
        print_table(
            ("run", "place", "recipient", "kind", "outcome", "attempts", "sent at (UTC)", "message id"),
            [
                (
                    r.run_id,
                    r.place,
                    r.email,
                    r.kind,
                    r.outcome,
                    r.attempts,
                    f"{r.sent_at:%Y-%m-%d %H:%M}" if r.sent_at else "",
                    r.message_id,
                )
                for r in status.rows
            ],
        )
    else:
        typer.echo(f"Nothing recorded for {status.week} yet.")
    if status.unreadable is not None:
        typer.echo(f"What is owed is not known: {status.unreadable}")
        return
    if not status.owed and not status.no_recipients:
        typer.echo(f"{status.week} (run {status.run_id}): nothing owed, everything is delivered")
        return
    n = len(status.owed)
    typer.echo(
        f"{status.week} (run {status.run_id}): {n} message{_s(n)} owed"
        + (f" (`qam deliver --week {status.week}` sends them)" if n else "")
    )
    for p in status.owed:
        typer.echo(f"  {p.place} to {p.recipient.address()}: {p.kind}{' (sent again)' if p.resend else ''}")
    for place, field in status.no_recipients:
        typer.echo(f"  {place}: exceptions, but nobody to send them to ({field} in the force file)")


def _s(n: int) -> str:
    return "" if n == 1 else "s"
