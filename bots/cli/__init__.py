"""The ``hogfleet`` command. Only the invoked command's module is imported (bots/cli/commands/).

``hogfleet --help`` lists the commands from :data:`COMMANDS` without importing any of them, so it
stays fast and pulls in neither Playwright nor httpx; ``hogfleet run`` imports ``commands/run.py``
alone. Every failure a user can cause ends here as one line on stderr with a code from
:class:`personas.errors.ExitCode`: typer's usage errors and our own :class:`HogfleetError` alike.
Tracebacks are for bugs only.
"""

from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass
from difflib import get_close_matches
from typing import Any, cast

import click
import typer
from typer import _click
from typer._click.exceptions import ClickException as TyperClickException
from typer._click.exceptions import NoArgsIsHelpError
from typer.core import TyperCommand, TyperGroup

from personas.errors import ExitCode, HogfleetError


@dataclass(frozen=True)
class CommandSpec:
    module: str  # under bots.cli.commands
    attr: str  # a typer command function, or a typer.Typer for a group of subcommands
    summary: str  # the one line `hogfleet --help` shows (tests/bots/test_cli_layout.py checks it)


# The order here is the order in --help.
COMMANDS: dict[str, CommandSpec] = {
    "simulate": CommandSpec(
        "simulate",
        "simulate_cmd",
        "Run a throwaway in-memory population for N days and print its daily metrics.",
    ),
    "plan": CommandSpec(
        "simulate",
        "plan_cmd",
        "Advance the stored population to DATE and write plans/DATE.json (idempotent).",
    ),
    "status": CommandSpec(
        "simulate",
        "status_cmd",
        "Show the pool and the fleet: states, patterns, 7 days of metrics, last run, failures, events.",
    ),
    "run": CommandSpec(
        "run",
        "run",
        "Execute the day's plan in real Chromium: one context per persona, its own storage state.",
    ),
    "pause": CommandSpec(
        "run", "pause", "Turn the kill switch on: running fleets stop starting sessions; new runs do nothing."
    ),
    "resume": CommandSpec("run", "resume", "Turn the kill switch off."),
    "debug": CommandSpec(
        "debug",
        "debug",
        "Run one persona's planned session (or a named flow) headed, logging steps and events.",
    ),
    "report": CommandSpec(
        "ops",
        "report",
        "Write one self-contained HTML report (opens offline) with plots of the pool and the runs.",
    ),
    "failures": CommandSpec(
        "ops",
        "failures",
        "List the day's failed sessions (final attempt failed) with the command that opens each trace.",
    ),
    "trace": CommandSpec(
        "ops", "trace", "Open a session's Playwright trace in the trace viewer (`playwright show-trace`)."
    ),
    "cleanup": CommandSpec(
        "ops",
        "cleanup",
        "Remove artifacts/<date>/ and runs/<date>/ older than --retain-days and report what it freed.",
    ),
    "personas": CommandSpec(
        "ops",
        "personas",
        "List and find personas in personas.json, to pick one for `hogfleet debug` or `hogfleet persona`.",
    ),
    "persona": CommandSpec(
        "ops", "persona", "Show one persona's whole record and its last sessions from the run ledgers."
    ),
    "smoke": CommandSpec(
        "smoke",
        "smoke",
        "Smoke-test every registered flow (plugins included) as a new, a returning (logged-in) and a mobile "
        "persona.",
    ),
    "verify": CommandSpec(
        "verify",
        "verify",
        "Compare, per event name, what the date's sessions sent (from the ledger) with what was ingested.",
    ),
    "merge": CommandSpec(
        "merge",
        "merge",
        "Fold every ledger of a day (unsharded and ledger.shard-KofN.jsonl) into personas.json.",
    ),
    "demo": CommandSpec("demo", "demo_app", "The embedded HogFlix demo site."),
}


def load_command(name: str) -> _click.Command:
    """Import the one module that holds ``name`` and turn its function (or group) into a command."""
    spec = COMMANDS[name]
    target: Any = getattr(importlib.import_module(f"bots.cli.commands.{spec.module}"), spec.attr)
    outer = typer.Typer(pretty_exceptions_enable=False, add_completion=False)
    if isinstance(target, typer.Typer):
        # A group of subcommands (`demo serve`): built under a parent so it stays a group even with
        # one subcommand, which typer would otherwise flatten into that subcommand.
        outer.add_typer(target, name=name)
        group = typer.main.get_command(outer)
        return cast(TyperGroup, group).commands[name]
    outer.command(name)(target)
    return typer.main.get_command(outer)


class LazyGroup(TyperGroup):
    """Lists commands from :data:`COMMANDS`; imports a command's module only to run it (or its --help)."""

    def list_commands(self, ctx: Any) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        spec = COMMANDS.get(cmd_name)
        if spec is None:
            return None
        # What the top-level --help lists: the name and its line, with nothing imported.
        return TyperCommand(name=cmd_name, help=spec.summary, short_help=spec.summary)

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        if args and args[0] in COMMANDS and args[0] not in self.commands:
            self.commands[args[0]] = load_command(args[0])
        elif args and args[0] not in COMMANDS and not args[0].startswith("-"):
            # Suggest from every command, not only the loaded ones typer would look at.
            matches = get_close_matches(args[0], list(COMMANDS))
            hint = f" Did you mean {', '.join(repr(m) for m in matches)}?" if matches else ""
            raise _click.exceptions.UsageError(f"No such command {args[0]!r}.{hint}", ctx)
        return super().resolve_command(ctx, args)


def build_app(*, load_all: bool = False) -> LazyGroup:
    """The ``hogfleet`` group; ``load_all`` imports every command (for checks of the whole tree)."""
    group = LazyGroup(
        name="hogfleet",
        help="A Playwright browser-bot fleet that keeps ~400 synthetic HogFlix users alive.",
        no_args_is_help=True,
    )
    if load_all:
        group.commands.update({name: load_command(name) for name in COMMANDS})
    return group


def main(argv: list[str] | None = None) -> int:
    app = build_app()
    try:
        # standalone_mode=False hands us typer.Exit(n) as the return value and usage errors as
        # exceptions, so every exit path below is ours to shape.
        rv = app.main(args=argv, standalone_mode=False, prog_name="hogfleet")
    except HogfleetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except NoArgsIsHelpError as exc:
        print(exc.format_message() if hasattr(exc, "format_message") else exc, file=sys.stderr)
        return ExitCode.OK
    except (typer.Abort, KeyboardInterrupt):
        print("error: aborted", file=sys.stderr)
        return ExitCode.INTERRUPTED
    except (TyperClickException, click.ClickException) as exc:
        # One line, not click's usage block: "error: No such option: --dayz (see `hogfleet --help`)".
        print(f"error: {exc.format_message()} (see `hogfleet --help`)", file=sys.stderr)
        return ExitCode.USAGE
    return rv if isinstance(rv, int) else ExitCode.OK


if __name__ == "__main__":
    raise SystemExit(main())
