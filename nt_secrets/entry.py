"""The ``nt-secrets`` program (the console script): Ctrl-C is handled from its first line.

Importing the command line takes a while (rich, pydantic, later the Pulumi SDK); a Ctrl-C then
would be a KeyboardInterrupt traceback from whatever module was being imported. This module,
imported first by the console script, ends the process on SIGINT with one line and exit 130
(:mod:`infra.interrupts`); :func:`nt_secrets.cli.main` keeps that for the commands that plan or
judge a stack and gives the others Python's KeyboardInterrupt back (``rotate`` says what goes on
in AWS; ``env pull`` removes its temporary file).
"""

from __future__ import annotations

import contextlib
import os
from typing import NoReturn

from infra import interrupts

#: 128 + SIGINT, as a shell reports a program Ctrl-C ended
EXIT_INTERRUPTED = 130


def stop() -> NoReturn:
    """End the process now: one line on stderr (the spinner's line cleared, the cursor shown
    again on a terminal), exit 130. Nothing of the interpreter's teardown runs."""
    if os.getpid() == _PID:  # not a forked worker of `check --jobs`: they end silently
        tidy = b"\r\x1b[2K\x1b[?25h" if os.isatty(2) else b"\n"
        with contextlib.suppress(OSError):
            os.write(2, tidy + b"nt-secrets: interrupted\n")
    os._exit(EXIT_INTERRUPTED)


_PID = os.getpid()
interrupts.install(stop)


def main() -> NoReturn:
    from nt_secrets.cli import main as run

    raise SystemExit(run())
