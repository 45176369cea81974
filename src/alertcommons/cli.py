"""The ``alertcommons`` command line."""

from __future__ import annotations

import os
import sys

import click

from alertcommons import __version__
from alertcommons.commands.backup import backup_command, restore_command
from alertcommons.commands.cap import cap
from alertcommons.commands.hub import audit_group, dispatch_command, init, serve
from alertcommons.commands.jp import jma_group, jp_group
from alertcommons.commands.keys import keys_group
from alertcommons.commands.places import districts_group, shelters_group
from alertcommons.commands.status import status
from alertcommons.commands.users import user_group
from alertcommons.errors import AlertCommonsError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="alertcommons")
def cli() -> None:
    """Alert Commons: publish disaster information once, reach every receiver for the area."""


cli.add_command(cap)
cli.add_command(serve)
cli.add_command(dispatch_command)
cli.add_command(init)
cli.add_command(audit_group)
cli.add_command(status)
jp_group.add_command(districts_group)
jp_group.add_command(shelters_group)
cli.add_command(jp_group)
cli.add_command(jma_group)
cli.add_command(user_group)
cli.add_command(keys_group)
cli.add_command(backup_command)
cli.add_command(restore_command)


def main() -> None:
    """Run the command line. Every refusal is one line on standard error: exit 2 for a usage
    error or a refused setting, 1 for an error found doing the work, 3 for an internal error.
    """
    try:
        code = cli.main(prog_name="alertcommons", standalone_mode=False)
    except click.exceptions.NoArgsIsHelpError as exc:
        exc.show()  # a bare group: its help, as click gives it
        sys.exit(exc.exit_code)
    except click.UsageError as exc:
        # click's own form is three lines (usage, a hint, the error): one says it all.
        where = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
        click.echo(f"error: {exc.format_message()}{where}", err=True)
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.Abort:
        click.echo("aborted", err=True)
        sys.exit(1)
    except AlertCommonsError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except BrokenPipeError:  # `… | head` closed the pipe: nothing to say, as click does
        # Point stdout at nothing, so the flush at exit does not fail on the closed pipe.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(1)
    except Exception as exc:  # a last resort: a person should see a sentence, not a traceback
        if os.environ.get("ALERTCOMMONS_DEBUG"):
            raise
        click.echo(f"internal error: {type(exc).__name__}: {exc}", err=True)
        click.echo("set ALERTCOMMONS_DEBUG=1 to see the traceback", err=True)
        sys.exit(3)
    sys.exit(code if isinstance(code, int) else 0)
