"""The ``hogfleet`` command: a typer app whose subcommands live in ``bots/commands/``.

Every failure a user can cause ends here as one line on stderr and exit code 2: typer's usage
errors and our own :class:`HogfleetError` alike. Tracebacks are for bugs only.
"""

from __future__ import annotations

import sys

import click
import typer

from personas.errors import HogfleetError

app = typer.Typer(
    name="hogfleet",
    help="A Playwright browser-bot fleet that keeps ~400 synthetic HogFlix users alive.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _register() -> None:
    # Imported here so `hogfleet --help` stays fast and each command module stays independent.
    from bots.commands import ALL

    for module in ALL:
        module.register(app)


def main(argv: list[str] | None = None) -> int:
    _register()
    try:
        app(args=argv, standalone_mode=False, prog_name="hogfleet")
    except HogfleetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.exceptions.Abort:
        print("error: aborted", file=sys.stderr)
        return 130
    except click.ClickException as exc:
        # One line, not click's usage block: "error: No such option: --dayz (try --help)".
        print(f"error: {exc.format_message()} (see `hogfleet --help`)", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
