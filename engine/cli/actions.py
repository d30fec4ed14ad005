"""`qam actions add|list|close`: the actions agreed at a Learning Review, who owns them, when they
are due, and which are open or overdue (docs/reviews.md#actions)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from engine import api
from engine.cli.console import print_table, settings_of, user_errors
from engine.core.periods import parse_date

actions_app = typer.Typer(
    no_args_is_help=True, help="Learning Review actions: add, list and close them (docs/reviews.md)."
)

#: how much of an action's text the table shows (the CSV has all of it)
_TEXT_SHOWN = 60


@actions_app.command("add")
def add(
    ctx: typer.Context,
    item: Annotated[str, typer.Option("--item", help="the catalogue item it is about, e.g. D7")],
    place: Annotated[str, typer.Option("--place", help="a place code of the force file, or FORCE")],
    owner: Annotated[str, typer.Option("--owner", help="who owns it (at most 120 characters)")],
    due: Annotated[str, typer.Option("--due", help="when it is due, YYYY-MM-DD")],
    text: Annotated[str, typer.Option("--text", help="the action (at most 2,000 characters)")],
    review: Annotated[
        str | None, typer.Option("--review", help="the review's quarter where it was agreed, e.g. 2026-Q3")
    ] = None,
    raised_on: Annotated[
        str | None, typer.Option("--raised-on", help="the day it was agreed, YYYY-MM-DD (default today)")
    ] = None,
) -> None:
    """Record an action agreed at a Learning Review; prints its id. It is never edited afterwards:
    closing it records only the day and a note.

    Example: qam actions add --item D7 --place BLK --owner "Insp X" --due 2027-01-31 --text "Refresh DASH training" --review 2026-Q3
    """
    with user_errors():
        action = api.actions.add_action(
            settings_of(ctx),
            item=item,
            place=place,
            owner=owner,
            due=due,
            text=text,
            review=review,
            raised_on=raised_on,
            now=api.now,
        )
    typer.echo(
        f"Action {action.id} recorded: {action.item} {action.place}, owner {action.owner}, "
        f"due {action.due.isoformat()}"
    )


@actions_app.command("list")
def list_(
    ctx: typer.Context,
    status: Annotated[str, typer.Option("--status", help="open, closed or all")] = "open",
    place: Annotated[
        str | None, typer.Option("--place", help="one place code, or FORCE (default: every place)")
    ] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="judge overdue as of this day, YYYY-MM-DD (default today)")
    ] = None,
    csv: Annotated[Path | None, typer.Option("--csv", help="also write them to this CSV file")] = None,
) -> None:
    """The actions by due date, an open one past its due date marked overdue.

    Example: qam actions list --status all --place BLK --as-of 2027-02-01 --csv actions.csv
    """
    with user_errors():
        day = parse_date(as_of, "--as-of") if as_of is not None else api.actions.local_day(api.now())
        listing = api.actions.list_actions(settings_of(ctx), status=status, place=place, as_of=day)
        if csv is not None:
            api.actions.write_actions_csv(listing, csv)
    rows = []
    for a in listing.actions:
        state = a.status(day)
        if state == "overdue":
            days = listing.days_overdue(a)
            state = f"OVERDUE ({days} day{'' if days == 1 else 's'})"
        elif a.closed_on is not None:
            state = f"closed {a.closed_on.isoformat()}"
        rows.append(
            (a.id, a.item, a.place, a.owner, a.due.isoformat(), state, a.review or "", _short(a.text))
        )
    if rows:
        print_table(("id", "item", "place", "owner", "due", "status", "review", "action"), rows)
    typer.echo(_summary(listing))
    if csv is not None:
        typer.echo(f"{len(rows)} row{'' if len(rows) == 1 else 's'} written to {csv}")


@actions_app.command("close")
def close(
    ctx: typer.Context,
    action_id: Annotated[int, typer.Argument(metavar="ID", help="the action's id (qam actions list)")],
    note: Annotated[str, typer.Option("--note", help="what was done (at most 2,000 characters)")] = "",
    on: Annotated[
        str | None, typer.Option("--on", help="the day it was done, YYYY-MM-DD (default today)")
    ] = None,
) -> None:
    """Close an open action; nothing else about it changes, and a closed action stays closed.

    Example: qam actions close 3 --note "Training delivered" --on 2027-01-12
    """
    with user_errors():
        action = api.actions.close_action(settings_of(ctx), action_id, note=note, on=on, now=api.now)
    assert action.closed_on is not None
    typer.echo(
        f"Action {action.id} closed on {action.closed_on.isoformat()} (it was due {action.due.isoformat()})."
    )


def _short(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= _TEXT_SHOWN else line[: _TEXT_SHOWN - 3] + "..."


def _summary(listing: api.actions.ActionListing) -> str:
    """'2 open actions, 1 overdue as of DAY.'; with --status all, the open and closed counts too."""
    n, day = len(listing.actions), listing.as_of.isoformat()
    where = f" for {listing.place}" if listing.place else ""
    overdue = len(listing.overdue)
    if listing.status == "closed":
        return f"{n} closed action{'' if n == 1 else 's'}{where}."
    if listing.status == "open":
        return f"{n} open action{'' if n == 1 else 's'}{where}, {overdue} overdue as of {day}."
    still_open = sum(1 for a in listing.actions if a.is_open)
    return (
        f"{n} action{'' if n == 1 else 's'}{where}: {still_open} open ({overdue} overdue as of {day}), "
        f"{n - still_open} closed."
    )
