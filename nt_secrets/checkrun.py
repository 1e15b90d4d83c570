"""What ``nt-secrets check`` does around the judging itself: before it, every option resolved and
checked (:mod:`nt_secrets.options`) and the baseline read; after it, the baseline applied or
written, the report on stdout and in each ``--output-file``, and the exit code.

Exit code: 1 when a mandatory finding is left after the baseline, unless ``--soft-fail``; 0
otherwise; bad input is 2 whatever the flags (raised as one of :data:`BAD_INPUT`, before anything
is judged or written where it can be).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from nt_secrets.options import OUTPUT_FORMATS, CheckOptions, OptionsError, resolve
from nt_secrets.outputs import OutputError
from policies.model import Violation
from policies.runner import PolicyConfigError

if TYPE_CHECKING:
    from nt_secrets.baseline import Baseline


#: The errors that mean bad input (exit 2).
BAD_INPUT: tuple[type[Exception], ...] = (OptionsError, OutputError, PolicyConfigError)


def prepare(args: argparse.Namespace) -> tuple[CheckOptions, Baseline | None]:
    """The run's options and baseline; one of :data:`BAD_INPUT` for bad input. Sets
    ``args.pack_document`` (what the judging reads as its pack config)."""
    opts = resolve(args)
    args.pack_document = opts.pack_document
    baseline = None
    if opts.baseline is not None:
        from nt_secrets.baseline import BaselineError, load

        try:
            baseline = load(opts.baseline)
        except BaselineError as exc:
            raise OptionsError(str(exc)) from None
    return opts, baseline


def finish(
    opts: CheckOptions,
    baseline: Baseline | None,
    violations: Sequence[Violation],
    resources: int,
    artifact: str | None,
) -> int:
    """Baseline, reports and exit code of a judged run."""
    from nt_secrets import report
    from nt_secrets.outputs import write_reports
    from nt_secrets.sources import infos

    found = list(violations)
    accepted: int | None = None
    if baseline is not None:
        from nt_secrets.baseline import apply

        found, accepted = apply(baseline, found)
    if opts.create_baseline is not None:
        from nt_secrets.baseline import write

        write(opts.create_baseline, found)
    policies = infos()
    # the files first: a file that cannot be written is bad input, reported before stdout's
    targets = [(p, OUTPUT_FORMATS[p.suffix.lower()]) for p in opts.output_files]
    write_reports(
        targets,
        found,
        policies=policies,
        artifact=artifact,
        resources=resources,
        accepted=accepted,
    )
    report.emit(
        found,
        opts.format,
        policies=policies,
        artifact=artifact,
        resources=resources,
        accepted=accepted,
        file=sys.stdout,
    )
    if opts.soft_fail:
        return 0
    return 1 if any(v.mandatory for v in found) else 0
