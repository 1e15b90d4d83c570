"""Report files (``check --output-file``), written atomically: a reader sees the whole file or the
one that was there before, never a part (a temporary file in the same directory, flushed to disk,
then renamed over the target)."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from nt_secrets.report import Artifact, render
from policies.model import PolicyInfo, Violation


class OutputError(OSError):
    """A report file that could not be written (exit 2; no partial file is left)."""


def write_atomically(path: Path, text: str) -> None:
    """``text`` (UTF-8) as the whole of ``path``, or OutputError and ``path`` as it was."""
    directory = path.parent
    fd, tmp = -1, ""
    try:
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)
        with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace", newline="") as out:
            fd = -1
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
        tmp = ""
    except OSError as exc:
        raise OutputError(f"{path}: {exc.strerror or 'cannot be written'}") from None
    finally:
        if fd >= 0:
            os.close(fd)
        if tmp:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def write_reports(
    targets: Sequence[tuple[Path, str]],
    violations: Iterable[Violation],
    *,
    policies: Iterable[PolicyInfo],
    artifact: Artifact,
    resources: int | None,
    accepted: int | None = None,
) -> None:
    """Each (path, format) written atomically (plain text, never colour). Every report is
    rendered before the first is written, so a rendering problem leaves every file as it was."""
    vs, infos = list(violations), list(policies)
    rendered = [
        (
            path,
            render(
                vs,
                fmt,
                policies=infos,
                artifact=artifact,
                resources=resources,
                accepted=accepted,
            ),
        )
        for path, fmt in targets
    ]
    for path, text in rendered:
        write_atomically(path, text)
