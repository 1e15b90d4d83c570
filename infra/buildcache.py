"""Where the program builds artefacts (the rotation zips of AWS and GCP): outside the checkout.

A checkout may be read-only (a CI cache, a container image, a vendored copy), so nothing is
written into it. The directory for a build named ``name`` is, in order:

1. ``$NT_SECRETS_BUILD_DIR/<name>``, when that variable is set (an absolute path; one that
   cannot be used is an error naming the variable, never silently replaced);
2. ``$XDG_CACHE_HOME/neural-trader-secrets/<name>`` (``~/.cache/...`` when ``XDG_CACHE_HOME`` is
   unset or not absolute, as the XDG base directory specification says), when it can be created
   and written;
3. ``<temp dir>/neural-trader-secrets-<uid>/<name>``, a directory this user owns and nobody else
   may write to (the zip becomes Lambda code: a directory another user could have prepared is
   never used; a fresh private one is made instead).

Pure (no Pulumi import). Builds are deterministic and carry a digest stamp, so a cache shared by
several checkouts only ever holds the zip of the code that was last built, rebuilt when it differs.
"""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Final

__all__ = [
    "APP_DIR",
    "ENV_VAR",
    "BuildDirError",
    "build_dir",
    "cached_zip",
    "entries_digest",
    "package_archive",
]

ENV_VAR: Final = "NT_SECRETS_BUILD_DIR"
APP_DIR: Final = "neural-trader-secrets"


def _writable(path: Path) -> bool:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return os.access(path, os.W_OK | os.X_OK)


def _private(path: Path) -> bool:
    """``path`` is a directory of this user that no one else can write to (creating it so)."""
    try:
        path.mkdir(mode=0o700, exist_ok=True)
        info = os.lstat(path)
    except OSError:
        return False
    getuid = getattr(os, "getuid", None)
    owned = getuid is None or info.st_uid == getuid()
    return (
        stat.S_ISDIR(info.st_mode)
        and owned
        and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
        and os.access(path, os.W_OK | os.X_OK)
    )


def _cache_home() -> Path:
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    return Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".cache"


class BuildDirError(ValueError):
    """``$NT_SECRETS_BUILD_DIR`` names no directory a build can use (bad input: exit 2)."""


def _chosen(override: str, name: str) -> Path:
    """``$NT_SECRETS_BUILD_DIR/<name>``, created; an explicit choice: never replaced by another,
    its failure is reported naming the variable (BuildDirError)."""
    base = Path(override).expanduser()
    if not base.is_absolute():
        raise BuildDirError(
            f"{ENV_VAR}: must be an absolute path (a relative one would build into whatever "
            "directory the command runs in)"
        )
    path = base / name
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BuildDirError(
            f"{ENV_VAR}: cannot create the build directory {path}: {exc.strerror or exc}"
        ) from exc
    if not os.access(path, os.W_OK | os.X_OK):
        raise BuildDirError(f"{ENV_VAR}: the build directory {path} is not writable")
    return path


def build_dir(name: str) -> Path:
    """The directory a build called ``name`` goes to (created; see the module docstring)."""
    override = os.environ.get(ENV_VAR, "")
    if override:
        return _chosen(override, name)
    try:
        cache = _cache_home() / APP_DIR / name
    except RuntimeError:  # no home directory to be found
        cache = None
    if cache is not None and _writable(cache):
        return cache
    uid = getattr(os, "getuid", lambda: "user")()
    shared = Path(tempfile.gettempdir()) / f"{APP_DIR}-{uid}"
    base = shared if _private(shared) else Path(tempfile.mkdtemp(prefix=f"{APP_DIR}-"))
    path = base / name
    path.mkdir(exist_ok=True)
    return path


def entries_digest(builder: Path, entries: Mapping[str, bytes]) -> str:
    """Digest of everything a zip is built from: the builder's own source and every entry."""
    h = hashlib.sha256(builder.read_bytes())
    for arcname, data in sorted(entries.items()):
        h.update(arcname.encode() + b"\0" + hashlib.sha256(data).digest())
    return h.hexdigest()


def cached_zip(directory: Path, zip_name: str, digest: str, build: Callable[[str], Path]) -> Path:
    """``directory/zip_name``, built by ``build(tmp)`` only when its digest stamp differs from
    ``digest``. Each build goes to a private temporary directory and is moved into place
    atomically (concurrent plans never see a half-written zip), and Ctrl-C waits for the end of
    the move (``infra/interrupts.py``): no temporary directory left, no zip without its stamp."""
    from infra import interrupts

    directory.mkdir(parents=True, exist_ok=True)
    target = directory / zip_name
    stamp = directory / (zip_name + ".sha256")
    if target.is_file() and stamp.is_file() and stamp.read_text().strip() == digest:
        return target
    with interrupts.whole(), tempfile.TemporaryDirectory(dir=directory, prefix=".build-") as tmp:
        os.replace(build(tmp), target)
        (Path(tmp) / "stamp").write_text(digest + "\n")
        os.replace(Path(tmp) / "stamp", stamp)
    return target


def package_archive(
    source: Path,
    zip_name: str,
    entries: Callable[[], Mapping[str, bytes]],
    build: Callable[[str], Path],
    directory: Path | None = None,
) -> tuple[Path, str]:
    """A package built once per process, and only when its inputs changed (the digest of
    ``source``, the module that builds it, and of its ``entries``, stamped beside it), with that
    digest; in ``directory``, else :func:`build_dir` ``("rotation")``."""
    digest = entries_digest(source, entries())
    target = cached_zip(directory or build_dir("rotation"), zip_name, digest, build)
    return target, digest
