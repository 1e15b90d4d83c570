"""The options of ``nt-secrets check`` beside what to judge: the flags checkov, trivy and tfsec
users expect, and the project config file that holds them.

==========================  ==================================================================
flag                        ``.nt-secrets.yaml`` key
==========================  ==================================================================
``--output-file PATH``      ``output-file`` (a path or a list): a report beside stdout's, its
                            format from the extension (.json, .sarif, .md, .txt), written
                            atomically (a complete file or none)
``--soft-fail``             ``soft-fail: true``: exit 0 with findings (still 2 on bad input)
``--policy NAME``           ``policy``: judge only these (a policy id or a checkov id the pack
                            maps: every policy mapping it)
``--skip-policy NAME``      ``skip-policy``: never judge these (same names)
``--baseline FILE``         ``baseline``: findings accepted earlier are not reported
``--create-baseline FILE``  ``create-baseline``: write this run's findings as a baseline
``--profile MODE``          ``profile``: ``auto`` (default), ``project`` (house rules on),
                            ``universal`` (house rules off): see :mod:`policies.profile`
``--policy-pack-config F``  ``policy-pack-config``
``--format FMT``            ``format``
``--jobs N``                ``jobs``
==========================  ==================================================================

The file is ``.nt-secrets.yaml`` in the current directory, or the one ``--config`` names; its
relative paths are relative to its own directory. It is validated strictly (an unknown key is an
error naming it); a flag given on the command line replaces the file's value (a repeatable flag
replaces the file's whole list). Everything is checked before anything is judged: bad input
exits 2 with one line naming what is wrong, and nothing is written.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from policies.contract import redact

if TYPE_CHECKING:
    from nt_secrets.configfile import ConfigFile

CONFIG_FILE: Final = ".nt-secrets.yaml"
#: Report format of an ``--output-file``, by extension.
OUTPUT_FORMATS: Final[Mapping[str, str]] = {
    ".json": "json",
    ".sarif": "sarif",
    ".md": "markdown",
    ".txt": "text",
}
PROFILES: Final = ("auto", "project", "universal")
_PROFILE_MODE: Final[Mapping[str, str]] = {"project": "on", "universal": "off"}


class OptionsError(ValueError):
    """Bad input in the options: exit 2 with this message."""


@dataclass(frozen=True)
class CheckOptions:
    """The options of one ``check``, the config file's under the command line's."""

    format: str = "text"
    output_files: tuple[Path, ...] = ()
    soft_fail: bool = False
    policy: tuple[str, ...] = ()
    skip_policy: tuple[str, ...] = ()
    baseline: Path | None = None
    create_baseline: Path | None = None
    profile: str = "auto"
    policy_pack_config: Path | None = None
    jobs: int | None = None
    #: the pack config document the run uses: the file's, with the profile and the policy
    #: selection applied (None: the pack's defaults)
    pack_document: Mapping[str, Any] | None = None
    #: where the options came from (for messages)
    config_path: Path | None = None


@dataclass(frozen=True)
class _NoFile:
    """No options file: every option unset."""

    output_file: list[str] | None = None
    soft_fail: bool | None = None
    policy: list[str] | None = None
    skip_policy: list[str] | None = None
    baseline: str | None = None
    create_baseline: str | None = None
    profile: str | None = None
    policy_pack_config: str | None = None
    format: str | None = None
    jobs: int | None = None


def _config_path(args: argparse.Namespace, cwd: Path) -> Path | None:
    given = getattr(args, "config", None)
    if given:
        return Path(given)
    default = cwd / CONFIG_FILE
    return default if default.is_file() else None


def resolve(args: argparse.Namespace, cwd: Path | None = None) -> CheckOptions:
    """The options of a ``check``: the config file's, each replaced by its flag when given;
    every name, file and format checked. OptionsError for bad input."""
    cwd = cwd or Path.cwd()
    path = _config_path(args, cwd)
    file: ConfigFile | _NoFile = _NoFile()
    if path is not None:  # pydantic is loaded only for a file to validate
        from nt_secrets.configfile import read_config_file

        file = read_config_file(path)
    base = path.parent if path is not None else cwd

    def from_file(value: str | None) -> Path | None:
        return None if value is None else base / value

    def pick(flag: Any, configured: Any, default: Any) -> Any:
        if flag not in (None, []):
            return flag
        return default if configured is None else configured

    outputs = (
        [Path(p) for p in args.output_file]
        if args.output_file
        else [base / p for p in file.output_file or ()]
    )
    opts = CheckOptions(
        format=pick(args.format, file.format, "text"),
        output_files=tuple(outputs),
        soft_fail=bool(args.soft_fail or file.soft_fail),
        policy=tuple(pick(args.policy, file.policy, ())),
        skip_policy=tuple(pick(args.skip_policy, file.skip_policy, ())),
        baseline=Path(args.baseline) if args.baseline else from_file(file.baseline),
        create_baseline=(
            Path(args.create_baseline) if args.create_baseline else from_file(file.create_baseline)
        ),
        profile=pick(args.profile, file.profile, "auto"),
        policy_pack_config=(
            Path(args.policy_pack_config)
            if args.policy_pack_config
            else from_file(file.policy_pack_config)
        ),
        jobs=pick(args.jobs, file.jobs, None),
        config_path=path,
    )
    _check_outputs(opts)
    if opts.baseline is not None and opts.create_baseline is not None:
        raise OptionsError("--baseline and --create-baseline: give one (a baseline is made once)")
    return replace(opts, pack_document=pack_document(opts))


def _check_outputs(opts: CheckOptions) -> None:
    """Every output file has a known extension and a directory to go into, before anything is
    judged (no partial result)."""
    targets = [*opts.output_files, *([opts.create_baseline] if opts.create_baseline else [])]
    for path in opts.output_files:
        if path.suffix.lower() not in OUTPUT_FORMATS:
            raise OptionsError(
                f"--output-file {path}: unknown extension; one of "
                f"{', '.join(OUTPUT_FORMATS)} chooses the format"
            )
    for path in targets:
        if path.is_dir():
            raise OptionsError(f"{path}: is a directory, not a file to write")
        if not path.parent.is_dir():
            raise OptionsError(f"{path}: its directory {path.parent} does not exist")
    if len({p.resolve() for p in targets}) != len(targets):
        raise OptionsError("the same file is named twice among --output-file/--create-baseline")


# ---- the pack config a run uses ------------------------------------------------------------------


def source_names() -> tuple[dict[str, str], dict[str, set[str]]]:
    """(finding source id -> its profile, checkov id -> the sources mapping it)."""
    from nt_secrets.sources import infos

    by_id: dict[str, str] = {}
    by_checkov: dict[str, set[str]] = {}
    for info in infos():
        by_id[info.id] = info.profile
        for cid in info.checkov:
            by_checkov.setdefault(cid, set()).add(info.id)
    return by_id, by_checkov


def select(names: Sequence[str], flag: str) -> set[str]:
    """The source ids ``names`` stand for (ids, or checkov ids: every source mapping one);
    OptionsError naming every name that is neither."""
    by_id, by_checkov = source_names()
    out: set[str] = set()
    unknown: list[str] = []
    for name in names:
        if name in by_id:
            out.add(name)
        elif name.upper() in by_checkov:
            out |= by_checkov[name.upper()]
        else:
            unknown.append(redact.name(name))
    if unknown:
        raise OptionsError(
            f"{flag}: unknown {'policy' if len(unknown) == 1 else 'policies'} "
            f"{', '.join(unknown)} (neither a policy id nor a checkov id the pack maps; "
            "`nt-secrets policies` lists both)"
        )
    return out


def _disabled(entry: Any) -> Any:
    if isinstance(entry, Mapping):
        return {**entry, "enforcementLevel": "disabled"}
    return "disabled"


def pack_document(opts: CheckOptions) -> Mapping[str, Any] | None:
    """The pack config of the run: the ``--policy-pack-config`` file's, with the sources not
    selected (``--policy``) or skipped (``--skip-policy``) disabled and the profile set."""
    from policies.pack import ALL
    from policies.profile import profile_document
    from policies.runner import PolicyConfigError, load_config_file, resolve_config

    document: dict[str, Any] | None = None
    if opts.policy_pack_config is not None:
        try:
            document = load_config_file(opts.policy_pack_config)
        except PolicyConfigError as exc:
            raise OptionsError(str(exc)) from None
    by_id, _ = source_names()
    chosen = select(opts.policy, "--policy") if opts.policy else set(by_id)
    skipped = select(opts.skip_policy, "--skip-policy") if opts.skip_policy else set()
    off = sorted((set(by_id) - chosen) | skipped)
    if off:
        document = dict(document or {})
        for pid in off:
            document[pid] = _disabled(document.get(pid))
    mode = _PROFILE_MODE.get(opts.profile)
    if mode is not None:
        document = profile_document(mode, [(p.spec.id, p.spec.profile) for p in ALL], document)
    if document is not None:
        try:
            resolve_config(document)  # refused before anything is judged
        except PolicyConfigError as exc:
            raise OptionsError(str(exc)) from None
    return document


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of this module on ``check``'s parser."""
    parser.add_argument(
        "--config", help=f"options file (default: {CONFIG_FILE} in the current directory)"
    )
    parser.add_argument(
        "--output-file",
        action="append",
        metavar="PATH",
        help="also write a report to PATH, format by extension: "
        f"{', '.join(OUTPUT_FORMATS)} (repeatable)",
    )
    parser.add_argument(
        "--soft-fail", action="store_true", default=None, help="exit 0 even with findings"
    )
    parser.add_argument(
        "--policy",
        action="append",
        metavar="NAME",
        help="judge only this policy (an id, or a checkov id the pack maps; repeatable)",
    )
    parser.add_argument(
        "--skip-policy",
        action="append",
        metavar="NAME",
        help="do not judge this policy (an id, or a checkov id; repeatable)",
    )
    parser.add_argument("--baseline", metavar="FILE", help="do not report findings FILE accepts")
    parser.add_argument(
        "--create-baseline", metavar="FILE", help="write this run's findings to FILE as a baseline"
    )
    parser.add_argument(
        "--profile",
        choices=PROFILES,
        help="house rules: auto (on for this project's stacks), project (on), universal (off)",
    )
