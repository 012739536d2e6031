"""The ``hogfleet`` command: a typer app whose subcommands live in ``bots/commands/``.

Every failure a user can cause ends here as one line on stderr and exit code 2: typer's usage
errors and our own :class:`HogfleetError` alike. Tracebacks are for bugs only.
"""

from __future__ import annotations

import sys

import click
import typer
from typer._click.exceptions import ClickException as TyperClickException
from typer._click.exceptions import NoArgsIsHelpError

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
        # standalone_mode=False hands us typer.Exit(n) as the return value and usage errors as
        # exceptions, so every exit path below is ours to shape.
        rv = app(args=argv, standalone_mode=False, prog_name="hogfleet")
    except HogfleetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except NoArgsIsHelpError as exc:
        print(exc.format_message() if hasattr(exc, "format_message") else exc, file=sys.stderr)
        return 0
    except (typer.Abort, KeyboardInterrupt):
        print("error: aborted", file=sys.stderr)
        return 130
    except (TyperClickException, click.ClickException) as exc:
        # One line, not click's usage block: "error: No such option: --dayz (see `hogfleet --help`)".
        print(f"error: {exc.format_message()} (see `hogfleet --help`)", file=sys.stderr)
        return 2
    return rv if isinstance(rv, int) else 0


if __name__ == "__main__":
    raise SystemExit(main())
