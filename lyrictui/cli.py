"""The `lyrictui` command: no subcommand opens the app; subcommands drive the same core.

Subcommands live in lyrictui/commands/<area>.py and are registered below. Every expected
failure is a LyricError: one line on stderr and exit code 2 (`--debug` shows the traceback).
"""

from __future__ import annotations

import sys
from typing import Any

import click

from lyrictui import __version__
from lyrictui.core.errors import LyricError

EXIT_USAGE = 2


class LyricGroup(click.Group):
    """A click group that turns errors into one clear line and exit code 2."""

    def invoke(self, ctx: click.Context) -> Any:
        debug = bool(ctx.params.get("debug"))
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except LyricError as exc:
            if debug:
                raise
            fail(str(exc))
        except BrokenPipeError:
            # `lyrictui runs | head`: the reader left; that is not an error.
            sys.stderr.close()
            sys.exit(0)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)
        except Exception as exc:  # an unexpected bug: still one line unless --debug
            if debug:
                raise
            from lyrictui.core import paths
            from lyrictui.core.store.db import damage, damaged_message

            if (detail := damage(exc)) is not None:
                fail(damaged_message(paths.library_path(), detail))
            if "readonly database" in str(exc):
                fail(f"the library at {paths.library_path()} is read-only: it can be listed "
                     "and read, but changes need a writable home (LYRICTUI_HOME)")
            fail(f"unexpected error: {type(exc).__name__}: {exc} (rerun with --debug for details)")


def fail(message: str) -> None:
    """Print one line on stderr and exit 2."""
    from lyrictui.core.names import strip_control

    line = " ".join(strip_control(message).split())
    click.echo(f"error: {line}", err=True)
    sys.exit(EXIT_USAGE)


@click.group(cls=LyricGroup, invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="lyrictui")
@click.option("--debug", is_flag=True, help="Show full tracebacks on errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Write lyrics with next-line suggestions from GPT-2 fine-tuned on an artist, locally.

    Run with no command to open the app.
    """
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug
    if ctx.invoked_subcommand is None:
        from lyrictui.app import make_app

        make_app().run()


def _register() -> None:
    # One import per line: each area's module adds its own commands (cheap imports only).
    from lyrictui.commands import compose as compose_commands
    from lyrictui.commands import demo as demo_commands
    from lyrictui.commands import drafts as drafts_commands
    from lyrictui.commands import library as library_commands
    from lyrictui.commands import pack as pack_commands
    from lyrictui.commands import songs as songs_commands
    from lyrictui.commands import train as train_commands

    modules = [
        library_commands,
        drafts_commands,
        compose_commands,
        songs_commands,
        demo_commands,
        train_commands,
        pack_commands,
    ]
    for module in modules:
        for command in module.COMMANDS:
            cli.add_command(command)


_register()


def main() -> None:
    cli(prog_name="lyrictui")
