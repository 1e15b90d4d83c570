"""Ctrl-C during a plan: the process ends at once, except inside :func:`whole` sections.

Python turns SIGINT into a KeyboardInterrupt raised wherever the main thread happens to be: in the
middle of an import (leaving a half-initialised provider module that fails later with an
AttributeError), inside the Pulumi SDK's event loop (which may swallow it, or wait on a future
that never completes until a second Ctrl-C), or while an artefact is moved into place. The command
line (``nt_secrets/entry.py``, ``nt_secrets.cli.main``) installs :func:`install`'s handler for
the commands that plan or judge a whole stack: the process ends from the signal handler itself
(``os._exit`` after one line), so no Python code runs on, and nothing catches it.

What may not be cut in the middle is marked with :func:`whole`: the Lambda archive moved into place
with its digest stamp, a report written to a file. An interrupt arriving inside one is held until
the section ends (milliseconds), then ends the process. Stdlib only, no state but the handler's.
"""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

_depth = 0
_pending = False
_stop: Callable[[], object] | None = None


def _handler(signum: int, frame: FrameType | None) -> None:
    global _pending
    if _depth or _stop is None:
        _pending = True
        return
    _stop()


def install(stop: Callable[[], object]) -> None:
    """Handle SIGINT with ``stop`` (which ends the process), held back inside :func:`whole`."""
    global _stop, _pending
    _stop, _pending = stop, False
    signal.signal(signal.SIGINT, _handler)


def installed() -> bool:
    return signal.getsignal(signal.SIGINT) is _handler


@contextmanager
def whole() -> Iterator[None]:
    """A section an interrupt may not cut: a Ctrl-C arriving inside it ends the process as soon
    as the outermost section is left. Without :func:`install`, nothing changes."""
    global _depth
    _depth += 1
    try:
        yield
    finally:
        _depth -= 1
        if not _depth and _pending and _stop is not None and installed():
            _stop()
