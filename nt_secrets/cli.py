"""``nt-secrets``: the project's command line.

Exit codes: 0 success, 1 a check failed (policy violations, a failed or timed-out rotation), 2 bad
input (a clear message on stderr, never a traceback, and nothing on stdout), 130 interrupted
(Ctrl-C: one line on stderr), 141 the reader of stdout went away (``nt-secrets plan | head -1``:
nothing more is written and nothing is said, as a program killed by SIGPIPE; the pipeline's status
is the reader's unless ``pipefail`` is set, and then it is 141 as for ``yes | head -1``), 74 the
output could not be written (a full disk, an encoding that cannot hold the text: one line).

No message quotes rejected input: keys and rules are named, values at most described by kind and
length (:mod:`policies.contract.redact`), and whatever reaches the terminal passes the pack's credential
detectors first (:func:`policies.contract.redact.redact_text`).
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import math
import os
import re
import signal
import stat
import sys
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.tree import Tree

from nt_secrets.options import add_arguments as add_check_options
from nt_secrets.stackfile import StackFileError, check_stack_name, read_stack
from policies.contract import redact
from policies.model import Violation

# The catalog and the settings (pydantic) load only where used: `check --state` and `policies`
# need neither (issue 15: a state check starts in well under a second).
if TYPE_CHECKING:
    from infra.catalog import Environment
    from nt_secrets.capture import Capture
    from nt_secrets.rotate import RotationProgress

EXIT_OK, EXIT_VIOLATIONS, EXIT_BAD_INPUT = 0, 1, 2
#: The output could not be written (a full disk, an I/O error, an encoding that cannot hold the
#: text): sysexits.h's EX_IOERR, never 1 (which would read as "violations")
EXIT_OUTPUT = 74
#: Ctrl-C (128 + SIGINT) and a reader gone from stdout (128 + SIGPIPE), as a shell reports them
EXIT_INTERRUPTED, EXIT_BROKEN_PIPE = 130, 141


#: Set (to anything but "" or "0") to print how long each phase took, on stderr (benchmarks).
TIMINGS_ENV = "NT_SECRETS_TIMINGS"
_timings: list[tuple[str, float, float]] = []


@contextmanager
def phase(name: str) -> Iterator[None]:
    """Time one phase of a command (imports, program, policies, report), wall clock and CPU:
    recorded always (it costs nothing), printed at the end of :func:`main` only when
    ``$NT_SECRETS_TIMINGS`` is set (``benchmarks/plan_bench.py``)."""
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        yield
    finally:
        _timings.append((name, time.perf_counter() - wall, time.process_time() - cpu))


def _print_timings(wall: float, cpu: float) -> None:
    if os.environ.get(TIMINGS_ENV, "") in ("", "0"):
        return
    rows = [*_timings, ("total", wall, cpu)]
    sys.stderr.write(
        "".join(f"nt-secrets timing: {n} wall {w:.3f} cpu {c:.3f}\n" for n, w, c in rows)
    )
    try:
        import resource

        peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
        sys.stderr.write(f"nt-secrets peak-rss {peak_kib} KiB\n")
    except ImportError:  # pragma: no cover  (not on Windows)
        pass


class _Console(Console):
    """rich's Console, except that a reader gone from stdout is not turned into exit 1 (which
    means "violations" here): the BrokenPipeError goes on to :func:`main` (exit 141)."""

    def on_broken_pipe(self) -> None:
        self.quiet = True
        raise BrokenPipeError


def _shown(text: str) -> str:
    """Text for rich markup: redacted first (before any wrapping, cropping or ellipsis could cut
    a credential to a prefix no detector knows), then escaped."""
    return escape(redact.printable(redact.redact_text(text)))


def _fail(message: str, code: int = EXIT_BAD_INPUT) -> NoReturn:
    _Console(stderr=True, highlight=False, soft_wrap=True, emoji=False).print(
        f"[bold red]error:[/] {_shown(message)}"
    )
    raise SystemExit(code)


def _print_json(doc: Any) -> None:
    # A setting no rule could refuse (a free-text one) may still carry a credential into the
    # plan: it is shown as its redacted hint, never as itself. Indented, every string of the
    # document lies on one line: redacted line by line (issue 15: a third of the time).
    sys.stdout.write(redact.redact_lines(json.dumps(doc, indent=2, sort_keys=False)) + "\n")


@dataclass(frozen=True)
class _Column:
    header: str
    cells: list[str]
    key: bool = False  # a name or id: never wrapped, never cut

    @property
    def min_width(self) -> int:
        """A key column's longest cell; any other column's longest word (it wraps at spaces)."""
        if self.key:
            return max([len(self.header), *map(len, self.cells)])
        words = [w for c in self.cells for w in c.split()]
        return max([len(self.header), *map(len, words)])

    @property
    def natural_width(self) -> int:
        return max([len(self.header), *map(len, self.cells)])


#: Width between two columns of a table drawn with box.SIMPLE_HEAD and no edge.
_GAP = 3


def fitted_table(title: str, columns: Sequence[_Column], width: int, *, rest: str) -> Table:
    """A table of ``columns`` (most important first) fitted to ``width``: key columns whole on one
    line; other columns wrap at spaces; the columns that do not fit even wrapped are left out
    and the caption says where they are (``rest``)."""
    chosen: list[_Column] = []
    used = 0
    for col in columns:
        need = col.min_width + (_GAP if chosen else 0)
        if chosen and used + need > width:
            break
        chosen.append(col)
        used += need
    # Widths are fixed here (rich would otherwise shrink a column below its longest word and crop
    # it): each column gets its minimum, then what is left goes to the columns that wrap, up to
    # their natural width, in order.
    widths = [c.min_width for c in chosen]
    spare = width - used
    for i, col in enumerate(chosen):
        extra = min(spare, col.natural_width - widths[i])
        if extra > 0:
            widths[i] += extra
            spare -= extra
    left_out = [c.header for c in columns[len(chosen) :]]
    caption = (f"Not shown at this width: {', '.join(left_out)}. " if left_out else "") + rest
    table = Table(
        title=title,
        caption=caption,
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        title_justify="left",
        caption_justify="left",
    )
    for col, w in zip(chosen, widths, strict=True):
        table.add_column(col.header, no_wrap=col.key, overflow="fold", width=w)
    for row in zip(*(c.cells for c in chosen), strict=True):
        table.add_row(*map(_shown, row))
    return table


# ---- plan ------------------------------------------------------------------------------------


def _plan_tree(capture: Capture) -> Tree:
    children: dict[str, list[Any]] = defaultdict(list)
    for r in capture.resources:
        children[r.parent].append(r)
    root_urn = next((r.urn for r in capture.resources if r.type == "pulumi:pulumi:Stack"), "")
    tree = Tree(f"[bold]{_shown(capture.project)}[/] / stack [bold]{_shown(capture.stack)}[/]")

    def label(t: str, group: list[Any]) -> str:
        flags = []
        if any(k.options.get("protect") for k in group):
            flags.append("protected")
        if any(k.secret_paths for k in group):
            flags.append("secret inputs")
        suffix = f" [dim]({', '.join(flags)})[/]" if flags else ""
        return (
            f"{t} × {len(group)}{suffix}"
            if len(group) > 1
            else f"{t} {_shown(group[0].name)}{suffix}"
        )

    def add_group(node: Tree, group: list[Any]) -> None:
        """Children of a group of same-typed resources, aggregated by type."""
        kids = [c for k in group for c in children.get(k.urn, [])]
        for t in sorted({c.type for c in kids}):
            same = [c for c in kids if c.type == t]
            add_group(node.add(label(t, same)), same)

    def add(node: Tree, urn: str) -> None:
        kids = sorted(children.get(urn, []), key=lambda r: (r.custom, r.type, r.name))
        for comp in (k for k in kids if not k.custom):
            add(node.add(f"[cyan]{_shown(comp.type)}[/] [bold]{_shown(comp.name)}[/]"), comp.urn)
        customs = [k for k in kids if k.custom]
        for t in sorted({k.type for k in customs}):
            same = [k for k in customs if k.type == t]
            add_group(node.add(label(t, same)), same)

    add(tree, root_urn)
    return tree


def _policy_config(args: argparse.Namespace) -> dict[str, Any] | None:
    from policies.runner import PolicyConfigError, load_config_file, resolve_config

    if hasattr(args, "pack_document"):  # check: options resolved (nt_secrets/options.py)
        document: dict[str, Any] | None = args.pack_document
        return document
    if not getattr(args, "policy_pack_config", None):
        return None
    try:
        document = load_config_file(Path(args.policy_pack_config))
        resolve_config(document)  # refused before the plan, not after it
    except PolicyConfigError as exc:
        _fail(str(exc))
    return document


def _disabled_count(config_doc: dict[str, Any] | None) -> int:
    """How many of the pack's policies the policy pack config disables."""
    from policies.model import Enforcement
    from policies.pack import ALL
    from policies.runner import resolve_config

    if not config_doc:
        return 0
    pack = {p.spec.id for p in ALL}  # the config also tunes nt-secrets' own offline checks
    levels = [s for pid, s in resolve_config(config_doc).items() if pid in pack]
    return sum(1 for s in levels if s.enforcement is Enforcement.DISABLED)


def _disabled_note(config_doc: dict[str, Any] | None) -> str | None:
    """What to say when the policy pack config disables policies ("no violations" is not the
    verdict of a pack that judged nothing)."""
    from policies.pack import ALL

    off = _disabled_count(config_doc)
    if not off:
        return None
    if off == len(ALL):
        return f"every policy of the pack ({off}) is disabled by the policy pack config: nothing was judged but the stack-file lint"
    return f"{off} of {len(ALL)} policies of the pack are disabled by the policy pack config"


def evaluate(args: argparse.Namespace) -> tuple[Capture, list[Violation]]:
    """Plan a stack offline and judge it: stack-file lint plus the policy pack."""
    with phase("imports"):
        import infra.program  # noqa: F401  (the Pulumi SDK: timed as imports, not as program)
        from infra.buildcache import BuildDirError
        from infra.catalog import CatalogError
        from infra.settings import SettingsError
        from nt_secrets.lint import lint_stack_file
        from nt_secrets.plan import plan_stack, records
        from nt_secrets.sources import tune
        from policies.runner import PolicyConfigError, run
        from policies.stack import with_catalog

    config_doc = _policy_config(args)
    project_dir = Path(args.project_dir)
    console = _Console(stderr=True)
    try:
        with console.status(f"Evaluating stack {args.stack} offline…", spinner="dots"):
            with phase("program"):
                stack_config = read_stack(project_dir, args.stack)
                violations = lint_stack_file(stack_config)
                catalog_path = Path(args.catalog) if getattr(args, "catalog", None) else None
                _config, capture = plan_stack(args.stack, project_dir, catalog_path=catalog_path)
            if catalog_path is not None:
                # The stack policies judge against the catalog the stack was planned with.
                config_doc = with_catalog(config_doc, catalog_path)
            with phase("policies"):
                violations += run(records(capture), config=config_doc).violations
                violations = tune(violations, config_doc)  # the stack-file lint's settings
    except (StackFileError, SettingsError, CatalogError, PolicyConfigError, BuildDirError) as exc:
        _fail(str(exc))
    _note_disabled(config_doc)
    return capture, violations


def _note_disabled(config_doc: dict[str, Any] | None) -> None:
    note = _disabled_note(config_doc)
    if note:
        _Console(stderr=True, highlight=False, soft_wrap=True).print(f"note: {_shown(note)}")


def _print_violations(
    out: Console, violations: list[Violation], *, judged_nothing: bool = False
) -> None:
    from policies.pack import ALL, PACK_NAME

    if not violations and judged_nothing:
        out.print(
            f"Policy pack {PACK_NAME}: every policy disabled by the policy pack config, nothing "
            "judged; stack-file lint: no violations."
        )
        return
    if not violations:
        out.print(
            f"[green]Policy pack {PACK_NAME} ({len(ALL)} policies) and stack-file lint: no violations.[/]"
        )
        return
    for v in sorted(violations, key=lambda v: (-v.severity.rank, v.policy, v.urn or "")):
        where = v.urn.rsplit("::", 1)[-1] if v.urn else "stack"
        out.print(
            f"[bold]{v.severity.value.upper():8}[/] {v.enforcement.value:9} {v.policy} "
            f"[cyan]{escape(redact.redact_text(where))}[/]: {escape(redact.redact_text(v.message))}"
        )


def cmd_plan(args: argparse.Namespace) -> int:
    from nt_secrets.plan import plan_document

    capture, violations = evaluate(args)
    mandatory = any(v.mandatory for v in violations)
    if args.format == "json":
        with _report():
            _print_json(plan_document(capture, [v.to_json() for v in violations]))
        return EXIT_VIOLATIONS if mandatory else EXIT_OK
    with _report():
        from policies.pack import ALL

        nothing = _disabled_count(_policy_config(args)) == len(ALL)
        _print_plan(capture, violations, judged_nothing=nothing)
    return EXIT_VIOLATIONS if mandatory else EXIT_OK


def _print_plan(
    capture: Capture, violations: list[Violation], *, judged_nothing: bool = False
) -> None:
    from nt_secrets.plan import summary

    out = _Console(highlight=False)
    out.print(_plan_tree(capture))
    s = summary(capture)
    # Counts first and whole; a type longer than the line goes on over the next one, never cut
    # ("…Encrypti", "1…" at 80 columns).
    table = Table(
        title="Resources by type",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        title_justify="left",
    )
    counts = {t: str(n) for t, n in s["byType"].items()}
    width = max(len("count"), *map(len, counts.values()))
    table.add_column("count", justify="right", no_wrap=True, min_width=width)
    table.add_column("type", overflow="fold")
    for t, n in counts.items():
        table.add_row(n, _shown(t))
    out.print(table)
    out.print(
        f"{s['resources']} resources ({s['custom']} custom, {s['components']} components), "
        f"{s['protected']} protected, {s['secretInputs']} secret inputs. "
        "Nothing was deployed: this is an offline evaluation through the Pulumi SDK's mock engine."
    )
    _print_violations(out, violations, judged_nothing=judged_nothing)


def cmd_check(args: argparse.Namespace) -> int:
    """Judge a stack (offline plan) or an existing stack's state with the policy pack."""
    from nt_secrets import checkrun
    from nt_secrets.judge import judge_state
    from nt_secrets.state import StateError, read_state
    from policies.runner import PolicyConfigError

    try:  # options, config file, baseline: all checked before anything is judged
        opts, accepted = checkrun.prepare(args)
    except checkrun.BAD_INPUT as exc:
        _fail(str(exc))
    if args.stack:
        capture, violations = evaluate(args)
        resources = len(capture.resources)
        artifact: str | None = str(Path(args.project_dir) / f"Pulumi.{args.stack}.yaml")
    else:
        try:
            reading = f"Reading {_shown(args.state)}…"
            with _Console(stderr=True).status(reading, spinner="dots") as status:
                with phase("read"):
                    state = (
                        read_state(_stdin(), name="<stdin>")
                        if args.state == "-"
                        else read_state(args.state)
                    )
                resources = len(state.records())
                status.update(f"Judging {resources:,} resources…")
                with phase("judge"):
                    violations = judge_state(state, opts.pack_document, jobs=opts.jobs)
        except (StateError, PolicyConfigError) as exc:
            _fail(str(exc))
        _note_disabled(dict(opts.pack_document) if opts.pack_document is not None else None)
        artifact = None if args.state == "-" else args.state
    with phase("report"), _report():
        try:
            return checkrun.finish(opts, accepted, violations, resources, artifact)
        except checkrun.BAD_INPUT as exc:
            _fail(str(exc))


def _stdin() -> Any:
    """Standard input as bytes; StateError when it is closed (``nt-secrets check --state - <&-``)."""
    from nt_secrets.state import StateError

    stream = sys.stdin
    if stream is None or getattr(stream, "closed", False):
        raise StateError("<stdin>: standard input is closed: pipe a state into it, or give a file")
    return getattr(stream, "buffer", stream)


# ---- explain ------------------------------------------------------------------------------------


def cmd_explain(args: argparse.Namespace) -> int:
    """One secret's whole story: catalog entry, stores, access, rotation, revocation, policies."""
    from infra.catalog import CatalogError, catalog_at
    from infra.settings import SettingsError
    from infra.stack import build_estate, parse_settings
    from nt_secrets.explain import ExplainError, check_name, explain_document
    from policies.pack import ALL
    from policies.runner import PolicyConfigError, resolve_config
    from policies.stack import with_catalog

    catalog_path = Path(args.catalog) if args.catalog else None
    if (args.name is None) == (not args.all):
        _fail("name one secret, or give --all for every secret of the stack (not both)")
    try:
        catalog = catalog_at(catalog_path)
        entries = [] if args.all else [check_name(catalog, args.name)]
        stack_config = read_stack(Path(args.project_dir), args.stack)
        settings = parse_settings(
            stack_config.config, secret_keys=stack_config.secret_keys, catalog=catalog
        )
        estate = build_estate(catalog, settings)
    except (StackFileError, SettingsError, CatalogError, ExplainError) as exc:
        _fail(str(exc))
    if args.all:
        entries = [s.entry for s in estate.secrets]
    capture, violations = evaluate(args)
    config_doc = _policy_config(args)
    if catalog_path is not None:
        config_doc = with_catalog(config_doc, catalog_path)
    try:
        resolved = resolve_config(config_doc)
    except PolicyConfigError as exc:
        _fail(str(exc))
    from nt_secrets.plan import records
    from policies.framework import resources_of
    from policies.graph import build

    graph = build(resources_of(records(capture)))
    docs = [
        explain_document(
            entry,
            settings=settings,
            estate=estate,
            capture=capture,
            violations=violations,
            policies=ALL,
            enforcement={pid: s.enforcement for pid, s in resolved.items()},
            graph=graph,
        )
        for entry in entries
    ]
    with _report():
        if args.format == "json":
            _print_json(docs if args.all else docs[0])
        elif args.all:
            _render_placements(docs)
        else:
            _render_explanation(docs[0])
    return EXIT_OK


# ---- access -------------------------------------------------------------------------------------


def cmd_access(args: argparse.Namespace) -> int:
    """Who can read, write, manage or describe each secret, and through which path."""
    from infra.buildcache import BuildDirError
    from infra.catalog import CatalogError
    from infra.settings import SettingsError
    from nt_secrets.access import AccessError, render
    from nt_secrets.state import StateError, read_state
    from policies.framework import resources_of
    from policies.graph import build

    if args.principal is not None and not args.principal.strip():
        _fail("--principal: give part of a principal's name (it is empty)")
    try:
        with _Console(stderr=True).status("Building the access graph…", spinner="dots"):
            if args.stack:
                from nt_secrets.plan import plan_stack, records

                catalog_path = Path(args.catalog) if args.catalog else None
                _config, capture = plan_stack(
                    args.stack, Path(args.project_dir), catalog_path=catalog_path
                )
                recs = records(capture)
            else:
                state = (
                    read_state(_stdin(), name="<stdin>")
                    if args.state == "-"
                    else read_state(args.state)
                )
                recs = state.records()
            graph = build(resources_of(recs))
        text = render(graph, args.format, args.secret, args.principal)
    except (
        StackFileError,
        SettingsError,
        CatalogError,
        BuildDirError,
        StateError,
        AccessError,
    ) as exc:
        _fail(str(exc))
    with _report():
        sys.stdout.write(text)
    return EXIT_OK


def _render_placements(docs: list[dict[str, Any]]) -> None:
    """``explain --all``: one line per stored secret: its home, replicas, value and rotation."""
    out = _Console(highlight=False, soft_wrap=True, emoji=False)
    table = Table(box=None, pad_edge=False, show_edge=False)
    for column in ("secret", "home", "replicas", "value", "rotated by", "delivered"):
        table.add_column(column, overflow="fold")
    for doc in docs:
        stores = doc["stores"]
        rotated = sorted(
            {s["rotatedBy"] for s in stores if s["role"] != "delivery" and s["rotatedBy"]}
        )
        delivered = [s["backend"] for s in stores if s["role"] == "delivery"]
        table.add_row(
            escape(doc["name"]),
            doc["home"],
            ", ".join(doc["replicas"]) or "-",
            doc["valueSource"],
            ", ".join(rotated) or "not rotated",
            ", ".join(delivered) or "-",
        )
    out.print(table)
    homes: dict[str, int] = {}
    for doc in docs:
        homes[doc["home"]] = homes.get(doc["home"], 0) + 1
    shown = ", ".join(f"{store} {count}" for store, count in sorted(homes.items()))
    out.print(f"\n{len(docs)} stored secrets; homes: {shown}")


def _render_explanation(doc: dict[str, Any]) -> None:
    out = _Console(highlight=False, soft_wrap=True, emoji=False)
    cat = doc["catalog"]
    out.print(f"[bold]{escape(doc['name'])}[/] — {escape(cat['description'])}")
    out.print(
        f"  catalog: {cat['category']}, service {cat['service']}, source {cat['source']}, "
        f"environments {', '.join(cat['environments'])}"
        + (f", trading mode {cat['tradingMode']}" if cat["tradingMode"] else "")
    )
    if not doc["stored"]:
        out.print(f"  stack {doc['stack']} ({doc['environment']}): {escape(doc['reason'])}")
        return
    out.print(
        f"  stack {doc['stack']} ({doc['environment']}): scopes {', '.join(doc['scopes']) or '-'}, "
        f"{doc['classification']}; value {escape(doc['value'])}"
    )
    out.print(
        f"  home {doc['home']}; replicas {', '.join(doc['replicas']) or 'none'}; one value "
        f"({doc['valueSource']}) in every copy"
    )
    for store in doc["stores"]:
        rotated = f"; rotated by {store['rotatedBy']}" if store["rotatedBy"] else ""
        out.print(
            f"\n[bold]{escape(store['title'])}[/] ({store['backend']}, {store['role']}{rotated}): "
            f"{escape(str(store['location']))}"
        )
        for r in store["resources"]:
            out.print(f"  {escape(r['type'])} {escape(r['address'])}")
        if not store["access"]:
            out.print("  nobody can read, write, manage or describe it")
        for grant in store["access"]:
            role = grant["role"] or "not in the access model"
            mark = " (escalation)" if grant["escalation"] else ""
            out.print(
                f"  {', '.join(grant['actions']):30} {_shown(grant['principal'])} "
                f"{escape(f'[{role}]')}{mark}"
            )
            if grant["via"]:
                out.print(f"    via {_shown(' ← '.join(grant['via']))}")
    rot = doc["rotation"]
    if rot:
        out.print(
            f"\n[bold]Rotation[/]: {rot['strategy']}, every {rot['periodDays']} days "
            f"(class {rot['class']}, at most {rot['classMaximumDays']})"
        )
        for step, text in rot["steps"].items():
            out.print(f"  {step:6} {escape(text)}")
        out.print(f"  emergency: {escape(rot['emergency'])}")
    out.print(
        "\n[bold]Revocation[/]: "
        + (
            "[red]REVOKED[/]: every role is denied reading it; rotate it, then un-revoke"
            if doc["revoked"]
            else "not revoked"
        )
    )
    verdicts = doc["policies"]
    failed = [v for v in verdicts if v["verdict"] == "fail"]
    out.print(
        f"\n[bold]Policies[/]: {len(verdicts)} verdicts on {len(doc['resources'])} resources, "
        f"{len(failed)} failed"
    )
    by_policy: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for v in verdicts:
        by_policy[v["policy"]].append(v)
    for policy, group in by_policy.items():
        worst = next(
            (k for k in ("fail", "pass", "disabled") if any(v["verdict"] == k for v in group)),
            "pass",
        )
        mark = {"pass": "[green]pass[/]", "fail": "[red]FAIL[/]", "disabled": "[dim]off[/] "}[worst]
        names = sorted({v["urn"].rsplit("::", 1)[-1] if v["urn"] else "stack" for v in group})
        shown = ", ".join(names[:4]) + (f" +{len(names) - 4}" if len(names) > 4 else "")
        out.print(f"  {mark} {policy} [dim]({escape(shown)})[/]")
        for v in group:
            for message in v["messages"]:
                where = v["urn"].rsplit("::", 1)[-1] if v["urn"] else "stack"
                out.print(f"       {escape(where)}: {escape(message)}")


# ---- catalog / env-template -------------------------------------------------------------------


def cmd_catalog(args: argparse.Namespace) -> int:
    from infra.catalog import CatalogError, default_catalog

    try:
        catalog = default_catalog()
    except CatalogError as exc:
        _fail(str(exc))
    if args.format == "json":
        _print_json(
            [
                e.model_dump(mode="json")
                | {"rotation_days": e.rotation.max_age_days if e.rotation else None}
                for e in catalog
            ]
        )
        return EXIT_OK
    entries = list(catalog)
    columns = [
        _Column("name", [e.name for e in entries], key=True),
        _Column(
            "kind",
            [(e.source.value if e.sensitive else "config").replace("-", " ") for e in entries],
        ),
        _Column(
            "rotation",
            [
                f"{e.rotation.value} {e.rotation.max_age_days} d" if e.rotation else "-"
                for e in entries
            ],
        ),
        _Column("environments", [" ".join(env.value for env in e.environments) for e in entries]),
        _Column("scopes", [" ".join(s.value for s in e.scopes) or "-" for e in entries]),
        _Column("service", [e.service for e in entries]),
        _Column("category", [e.category.value for e in entries]),
    ]
    out = _Console(highlight=False)
    out.print(
        fitted_table(
            f"neural-trader secret catalog ({len(entries)} entries)",
            columns,
            out.width,
            rest="Every field, descriptions included: --format json.",
        )
    )
    return EXIT_OK


def render_env_template(environment: Environment) -> str:
    """An .env template for one environment: placeholders only, never a value."""
    from infra.catalog import default_catalog

    catalog = default_catalog()
    lines = [
        f"# neural-trader .env template for {environment.value} (generated by `nt-secrets env-template`).",
        "# Placeholders only. Secrets come from the secret manager; never commit a filled-in copy.",
        "",
    ]
    current = None
    for e in catalog.needed_in(environment):
        if e.category != current:
            current = e.category
            lines += ["", f"# --- {e.category.value} ---"]
        mode = e.mode_in(environment)
        note = f" [{mode.value}]" if mode else ""
        if e.source.value == "workload-identity":
            lines.append(redact.printable(f"# {e.name}: not used. {e.replaced_by}."))
            continue
        if e.stored:
            where = f"{e.service}/{e.key}"
            lines.append(
                redact.printable(f"# {e.description}{note}. Secret: {where} in the secret manager")
            )
            lines.append(f"{e.name}=${{{e.name}}}")
        else:
            lines.append(redact.printable(f"# {e.description}{note}"))
            lines.append(f"{e.name}=")
    return "\n".join(lines).replace("\n\n\n", "\n\n") + "\n"


def cmd_env_template(args: argparse.Namespace) -> int:
    from infra.catalog import CatalogError, Environment

    try:
        sys.stdout.write(render_env_template(Environment(args.environment)))
    except CatalogError as exc:
        _fail(str(exc))
    return EXIT_OK


# ---- env pull / vault-build -------------------------------------------------------------------


def cmd_env_pull(args: argparse.Namespace) -> int:
    """A development stack's secrets into a private .env file (see nt_secrets/envpull.py)."""
    from infra.catalog import CatalogError
    from infra.settings import SettingsError
    from nt_secrets import envpull
    from nt_secrets.envpull import EnvPullError, Fetched, Status

    err = _Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)
    try:
        plan = envpull.plan_pull(
            Path(args.project_dir),
            args.stack,
            args.store,
            Path(args.catalog) if args.catalog else None,
        )
        envpull.check_output(Path(args.output), force=args.force)
        source = envpull.source_for(plan)
    except (StackFileError, SettingsError, CatalogError, EnvPullError) as exc:
        _fail(str(exc))
    err.print(
        f"Pulling {len(plan.addresses)} secrets of {plan.environment.value} (stack {plan.stack}) "
        f"from {escape(plan.store_title)} with your credentials:"
    )
    width = max((len(n) for n in plan.addresses), default=0)
    style = {Status.OK: "green", Status.DENIED: "red", Status.MISSING: "yellow"}

    def show(name: str, result: Fetched) -> None:  # name and status only, never the value
        colour = style.get(result.status, "red")
        err.print(f"  {name:{width}}  [{colour}]{result.status.value}[/]")

    try:
        result = envpull.pull(
            plan, Path(args.output), force=args.force, source=source, on_progress=show
        )
    except EnvPullError as exc:
        _fail(str(exc))
    except OSError as exc:
        _fail(f"--output: cannot write {args.output}: {exc.strerror or exc}")
    missing = result.not_pulled
    err.print(
        f"wrote {escape(str(result.path))} (mode 0600): {result.variables} variables, "
        f"{escape(envpull.summary(result.results))}"
    )
    expanding = envpull.expanding_values(result.results)
    if expanding:
        err.print(
            f"note: {', '.join(expanding)}: the value holds '${{', kept literal (single "
            "quotes); load it with variable expansion off (python-dotenv: interpolate=False)"
        )
    if missing and not args.allow_partial:
        err.print(
            "[bold red]error:[/] not every secret was pulled; the file holds a commented "
            "placeholder for each (ask for access, or re-run with --allow-partial to accept it)"
        )
        return EXIT_VIOLATIONS
    return EXIT_OK


def cmd_env_esc(args: argparse.Namespace) -> int:
    """The stack's Pulumi ESC environments (references only; see nt_secrets/esc.py)."""
    from infra.catalog import CatalogError
    from infra.settings import SettingsError
    from nt_secrets import esc

    try:
        envs = esc.build(
            Path(args.project_dir), args.stack, Path(args.catalog) if args.catalog else None
        )
    except (StackFileError, SettingsError, CatalogError, esc.EscError) as exc:
        _fail(str(exc))
    sys.stdout.write(esc.render(envs, args.layer))
    return EXIT_OK


def cmd_env_vault_build(args: argparse.Namespace) -> int:
    """A dotenv-vault compatible .env.vault and its keys file (see nt_secrets/dotenv_vault.py)."""
    from nt_secrets import dotenv_vault
    from nt_secrets.envpull import EnvPullError

    try:
        inputs = dotenv_vault.parse_inputs(args.input or [])
        built = dotenv_vault.build(
            inputs, Path(args.output), Path(args.keys_file), force=args.force
        )
    except EnvPullError as exc:
        _fail(str(exc))
    except OSError as exc:
        _fail(f"cannot write the vault or its keys: {exc.strerror or exc}")
    err = _Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)
    names = ", ".join(built.environments)
    err.print(
        f"wrote {escape(str(built.vault))} ({names}; AES-256-GCM, commit it) and "
        f"{escape(str(built.keys_file))} (mode 0600): store each DOTENV_KEY_<ENVIRONMENT> there "
        "as that environment's DOTENV_KEY secret in CI, then delete the keys file"
    )
    return EXIT_OK


# ---- policies --------------------------------------------------------------------------------


def policies_markdown() -> str:
    """The finding sources as a Markdown reference (docs/policies.md is this output)."""
    from nt_secrets.sources import policies_markdown as markdown

    return markdown()


def cmd_policies(args: argparse.Namespace) -> int:
    from nt_secrets.sources import infos as source_infos
    from nt_secrets.sources import policies_json

    if args.format == "markdown":
        sys.stdout.write(policies_markdown())
        return EXIT_OK
    infos = source_infos()
    if args.format == "json":
        _print_json(policies_json())
        return EXIT_OK
    columns = [
        _Column("id", [i.id for i in infos], key=True),
        _Column("severity", [i.severity.value for i in infos]),
        _Column("enforcement", [i.enforcement.value for i in infos]),
        _Column("category", [i.category.value for i in infos]),
        _Column("rules", [i.profile for i in infos]),
        _Column("checkov", [" ".join(i.checkov) or "-" for i in infos]),
    ]
    out = _Console(highlight=False)
    out.print(
        fitted_table(
            f"Policy pack ({len(infos)} policies)",
            columns,
            out.width,
            rest="Rules: universal, project (house rules: on for this project's stacks or with "
            "--profile project) or mixed. Descriptions and remediation: --format=json or "
            "--format=markdown.",
        )
    )
    return EXIT_OK


# ---- rotate -------------------------------------------------------------------------------------

SECRET_ARN_RE = re.compile(
    r"^arn:aws[a-z-]*:secretsmanager:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):secret:.+$"
)
#: What a secret's name or ARN may look like to be quoted back (Secrets Manager's name alphabet).
_SECRET_NAME_RE = re.compile(r"^[A-Za-z0-9/_+=.@:!-]{1,512}$")


@dataclass(frozen=True)
class RotationTarget:
    secret_id: str  # the environment's secret name, or the ARN as given
    region: str
    label: str  # what the progress display calls it


def resolve_rotation_target(secret: str, stack: str | None, project_dir: Path) -> RotationTarget:
    """A catalog name (JWT_SECRET), a secret name or an ARN -> the secret to rotate and its region.

    Raises ValueError (bad input) with a message naming the secret or the stack key at fault.
    """
    from infra.backends.aws import aws_settings
    from infra.backends.aws.naming import secret_name
    from infra.catalog import ENV_VAR_RE, default_catalog
    from infra.stack import parse_settings

    arn = SECRET_ARN_RE.fullmatch(secret)
    settings = None
    if stack is not None:
        config = read_stack(project_dir, stack)
        settings = parse_settings(config.config, secret_keys=config.secret_keys)
        if "aws" not in settings.backends:
            raise ValueError(f"stack {stack} does not enable the aws backend (rotation runs there)")
    # What the user typed is shown only when it reads as a name (it may be the secret itself,
    # pasted into the wrong place); an ARN that matched the pattern is a name.
    shown = redact.name(secret, _SECRET_NAME_RE)
    if arn:
        if settings is not None:
            aws = aws_settings(settings)
            if (arn["region"], arn["account"]) != (aws.region, aws.account_id):
                raise ValueError(
                    f"{shown} is not in stack {stack}'s account {aws.account_id} ({aws.region})"
                )
        return RotationTarget(secret, arn["region"], secret)
    if settings is None:
        raise ValueError(f"{shown}: give --stack to resolve a name (or pass the secret's ARN)")
    env = settings.environment
    catalog = default_catalog()
    by_path = {secret_name(e, env): e for e in catalog.stored_in(env)}
    if ENV_VAR_RE.fullmatch(secret):
        if secret not in catalog.names:
            raise ValueError(f"{shown} is not in the secret catalog (`nt-secrets catalog`)")
        entry = catalog.get(secret)
        if not entry.stored:
            raise ValueError(f"{secret} is not a stored secret (nothing to rotate)")
        if not entry.needed_in(env):
            raise ValueError(f"{secret} is not stored in {env.value} (stack {stack})")
    elif secret in by_path:
        entry = by_path[secret]
    else:
        raise ValueError(
            f"{shown} is neither a catalog name, a secret of {env.value} "
            "(neural-trader/<environment>/<service>/<key>) nor a secret ARN"
        )
    if not entry.rotatable:
        raise ValueError(f"{entry.name} has no rotation configured in the catalog")
    name = secret_name(entry, env)
    return RotationTarget(name, aws_settings(settings).region, f"{entry.name} ({name})")


def cmd_rotate(args: argparse.Namespace) -> int:
    if not args.now:
        _fail("only emergency rotation exists here: add --now (schedules are set by Pulumi)")
    if not (math.isfinite(args.timeout) and math.isfinite(args.poll_interval)) or (
        args.timeout <= 0 or args.poll_interval <= 0
    ):
        _fail(f"--timeout must be a positive number of seconds, not {args.timeout:g}")
    from infra.catalog import CatalogError
    from infra.settings import SettingsError

    try:
        home = _home_rotation(args)
        if home is not None:
            return home
        target = resolve_rotation_target(args.secret, args.stack, Path(args.project_dir))
    except (ValueError, StackFileError, SettingsError, CatalogError) as exc:
        _fail(str(exc))

    import boto3
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from nt_secrets.rotate import (
        EmergencyRotationError,
        RotateOptions,
        RotationNotConfiguredError,
        RotationPhase,
        rotate_now,
    )

    err = _Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)
    # A session of its own (as env pull): the default one caches credentials for the process.
    client = boto3.session.Session().client("secretsmanager", region_name=target.region)
    options = RotateOptions(timeout_s=args.timeout, poll_interval_s=args.poll_interval)
    with Progress(
        SpinnerColumn(),
        # Plain text: descriptions hold ARNs, and ":secret:" would render as an emoji as markup.
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=False,
    ) as progress:
        # Redacted before rich may cut a line to the terminal's width (a cut credential is a
        # prefix no detector knows).
        task = progress.add_task(
            redact.redact_text(f"rotating {target.label}: requesting"), total=options.timeout_s
        )
        seen: list[RotationProgress] = []

        def show(p: RotationProgress) -> None:
            seen.append(p)
            done = p.phase is RotationPhase.COMPLETED
            progress.update(
                task,
                description=redact.redact_text(f"{p.phase.value}: {p.message}"),
                completed=options.timeout_s if done else min(p.elapsed_s, options.timeout_s),
            )

        try:
            result = rotate_now(client, target.secret_id, on_progress=show, options=options)
        except RotationNotConfiguredError as exc:
            progress.stop()
            _fail(str(exc))
        except EmergencyRotationError as exc:
            progress.stop()
            from nt_secrets.envpull import _CREDENTIAL_ERRORS, credential_error

            if isinstance(exc.__cause__, _CREDENTIAL_ERRORS):  # as `env pull` says it: exit 2
                _fail(str(credential_error(exc.__cause__)))
            if "ResourceNotFoundException" in str(exc):
                _fail(f"{target.label}: no such secret in {target.region} ({exc})")
            _fail(f"rotation of {target.label} failed: {exc}", EXIT_VIOLATIONS)
        except KeyboardInterrupt:
            progress.stop()
            _interrupted(_rotation_goes_on(target, seen[-1] if seen else None))
    out = _Console(highlight=False, soft_wrap=True, emoji=False)
    out.print(
        f"rotated {escape(result.secret_arn)}: version {result.version_id} is AWSCURRENT "
        f"(previous {result.previous_version_id or 'none'}, now AWSPREVIOUS) "
        f"in {result.elapsed_s:.1f}s"
    )
    return EXIT_OK


def _home_rotation(args: argparse.Namespace) -> int | None:
    """``rotate NAME --now --stack S`` of a secret whose home is Vault, GCP or Azure: the driver
    runs here, with the operator's credentials, on the home copy and every replica (None: the
    secret's home is AWS, or the name is not a catalog name of the stack)."""
    from infra.catalog import ENV_VAR_RE, default_catalog
    from infra.stack import build_estate, parse_settings
    from nt_secrets.rotate_home import (
        STORES,
        HomeRotationError,
        MissingCredentialsError,
        rotate_in_home,
    )

    if args.stack is None or not ENV_VAR_RE.fullmatch(args.secret):
        return None
    config = read_stack(Path(args.project_dir), args.stack)
    catalog = default_catalog()
    settings = parse_settings(config.config, secret_keys=config.secret_keys, catalog=catalog)
    estate = build_estate(catalog, settings)
    if args.secret not in estate:
        return None  # the AWS path names what is wrong with it
    secret = estate.secret(args.secret)
    if secret.home not in STORES:
        return None
    if secret.rotation is None:
        raise ValueError(f"{secret.name} has no rotation configured in the catalog")
    err = _Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)
    replicas = f" and its replicas in {', '.join(secret.replicas)}" if secret.replicas else ""
    err.print(
        f"rotating {secret.name} in its home store {secret.home}{replicas} "
        "with your credentials...",
        markup=False,
    )
    try:
        done = rotate_in_home(estate, settings, secret, os.environ)
    except MissingCredentialsError as exc:
        _fail(str(exc))
    except HomeRotationError as exc:
        _fail(f"rotation of {secret.name} in {secret.home} failed: {exc}", EXIT_VIOLATIONS)
    out = _Console(highlight=False, soft_wrap=True, emoji=False)
    written = f"; replicas written: {', '.join(done.replicas)}" if done.replicas else ""
    out.print(
        f"rotated {done.secret_id} in {secret.home}: {done.result} "
        f"(rotation {done.rotation_id}){written}",
        markup=False,
    )
    return EXIT_OK


def _rotation_goes_on(target: RotationTarget, last: RotationProgress | None) -> str:
    """What to say when ``rotate`` is interrupted: only the watching stopped."""
    secret_id = last.secret_arn if last is not None else target.secret_id
    watch = f"aws secretsmanager describe-secret --secret-id {secret_id} --region {target.region}"
    if last is None:
        return (
            f"interrupted while requesting the rotation of {target.label}: it may have started "
            f"in AWS all the same. Check with `{watch}` (a version labelled AWSPENDING in "
            "VersionIdsToStages is a rotation under way)"
        )
    return (
        f"interrupted: only the watching stopped. The rotation of {target.label} continues in "
        f"AWS (new version {last.version_id}); watch it with `{watch}` until that version "
        "carries AWSCURRENT in VersionIdsToStages (the rotation Lambda's log group tells why "
        "if it does not)"
    )


# ---- entry point ------------------------------------------------------------------------------


def _interrupted(message: str = "interrupted") -> NoReturn:
    """Ctrl-C: one line on stderr, exit 130."""
    try:
        sys.stderr.write(f"\nnt-secrets: {message}\n")
        sys.stderr.flush()
    except OSError:
        pass
    raise SystemExit(EXIT_INTERRUPTED)


def _quiet_stdout() -> None:
    """The reader of stdout went away: send what is still buffered nowhere, so that neither this
    process nor the interpreter's exit writes to the broken pipe again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # stdout without a descriptor (tests)
        pass


class _Parser(argparse.ArgumentParser):
    """argparse's errors quote the rejected argument (``invalid choice: 'x'``): described here."""

    _QUOTED = re.compile(r"(invalid (?:choice|[\w ]+ value)): ('(?:[^'\\]|\\.)*'|\"[^\"]*\")")
    _UNRECOGNIZED = re.compile(r"unrecognized arguments: .*", re.S)

    def error(self, message: str) -> NoReturn:
        def hint(m: re.Match[str]) -> str:
            return f"{m[1]}: {redact.describe(m[2][1:-1])}"

        message = self._QUOTED.sub(hint, message)
        message = self._UNRECOGNIZED.sub("unrecognized arguments (see --help)", message)
        super().error(redact.redact_text(message))


def _check_names(args: argparse.Namespace) -> None:
    """Names given on the command line, checked before anything reads a file."""
    stack = getattr(args, "stack", None)
    if stack is not None:
        try:
            check_stack_name(stack)
        except StackFileError as exc:
            _fail(str(exc))


class _EnvironmentNames(Sequence[str]):
    """The catalog's environment names, read when argparse first asks (the catalog module loads
    pydantic: commands that do not name an environment do not pay for it)."""

    @staticmethod
    def _names() -> list[str]:
        from infra.catalog import Environment

        return [e.value for e in Environment]

    def __getitem__(self, index: Any) -> Any:
        return self._names()[index]

    def __len__(self) -> int:
        return len(self._names())

    def __contains__(self, value: object) -> bool:
        return value in self._names()

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())


def _jobs(text: str) -> int:
    """``--jobs``: a whole number of processes, 1 to 256."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a whole number, got {redact.name(text)}"
        ) from None
    if not 1 <= value <= 256:
        raise argparse.ArgumentTypeError(f"expected 1 to 256 processes, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="nt-secrets", description="neural-trader secrets infrastructure tools")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("plan", help="evaluate a stack offline through the Pulumi SDK's mock engine")
    p.add_argument("--stack", required=True, help="stack name: reads Pulumi.<stack>.yaml")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--project-dir", default=".", help="directory holding Pulumi.yaml (default: .)")
    p.add_argument(
        "--catalog", help="catalog file to use instead of infra/catalog.yaml (try a change offline)"
    )
    p.add_argument(
        "--policy-pack-config",
        help="policy pack config JSON, as for `pulumi preview --policy-pack-config`",
    )
    p.set_defaults(func=cmd_plan)

    ck = sub.add_parser(
        "check", help="judge a stack offline or an existing stack's state with the policy pack"
    )
    what = ck.add_mutually_exclusive_group(required=True)
    what.add_argument("--stack", help="plan Pulumi.<stack>.yaml offline and judge it")
    what.add_argument(
        "--state", help="`pulumi stack export` output or a checkpoint file to judge (- for stdin)"
    )
    ck.add_argument("--format", choices=("text", "json", "markdown", "sarif"), default=None)
    ck.add_argument("--project-dir", default=".", help="directory holding Pulumi.yaml (default: .)")
    ck.add_argument(
        "--policy-pack-config",
        help="policy pack config JSON, as for `pulumi preview --policy-pack-config`",
    )
    add_check_options(ck)  # nt_secrets/options.py: --output-file, --baseline, --config...
    ck.add_argument(
        "--jobs",
        type=_jobs,
        default=None,
        help="processes judging a large state (default: one per available CPU, at most one "
        "per 1,000 resources; 1: no others)",
    )
    ck.set_defaults(func=cmd_check, catalog=None)

    ex = sub.add_parser(
        "explain", help="one secret's whole story: stores, access, rotation, policies"
    )
    ex.add_argument("name", nargs="?", help="catalog name, e.g. JWT_SECRET")
    ex.add_argument(
        "--all",
        action="store_true",
        help="every stored secret of the stack: home, replicas, value source, who rotates each "
        "copy (JSON: a list of the per-secret documents)",
    )
    ex.add_argument("--stack", required=True, help="stack name: reads Pulumi.<stack>.yaml")
    ex.add_argument("--format", choices=("text", "json"), default="text")
    ex.add_argument("--project-dir", default=".", help="directory holding Pulumi.yaml (default: .)")
    ex.add_argument("--catalog", help="catalog file to use instead of infra/catalog.yaml")
    ex.add_argument(
        "--policy-pack-config",
        help="policy pack config JSON, as for `pulumi preview --policy-pack-config`",
    )
    ex.set_defaults(func=cmd_explain)

    ac = sub.add_parser(
        "access",
        help="who can read, write, manage or describe each secret, and through which path",
        description="The access graph of a plan (--stack) or of a deployed stack's state "
        "(--state): for every secret in AWS, GCP, Azure, Vault and Kubernetes, every principal "
        "that can read its value, write a new one, manage it or only describe it, with each "
        "hop of the path that grants it; escalations (one allowed step away) are marked. "
        "docs/incident-response.md starts here.",
    )
    src = ac.add_mutually_exclusive_group(required=True)
    src.add_argument("--stack", help="stack name: plans Pulumi.<stack>.yaml offline")
    src.add_argument("--state", help="`pulumi stack export` output or a checkpoint (- for stdin)")
    ac.add_argument("--secret", help="one secret: catalog name, URN or store address")
    ac.add_argument("--principal", help="only principals whose name contains this text")
    ac.add_argument("--format", choices=("text", "json", "dot", "mermaid"), default="text")
    ac.add_argument("--project-dir", default=".", help="directory holding Pulumi.yaml (default: .)")
    ac.add_argument("--catalog", help="catalog file to use instead of infra/catalog.yaml")
    ac.set_defaults(func=cmd_access)

    c = sub.add_parser("catalog", help="print the secret catalog")
    c.add_argument("--format", choices=("text", "json"), default="text")
    c.set_defaults(func=cmd_catalog)

    env = sub.add_parser("env", help="secrets for local development (env pull)")
    env_sub = env.add_subparsers(dest="env_command", required=True, metavar="SUBCOMMAND")
    ep = env_sub.add_parser(
        "pull",
        help="write a development stack's secrets to a private (0600) .env file",
        description="Read the stack's secrets from an enabled store with your own credentials "
        "(boto3's chain for AWS; VAULT_ADDR/VAULT_TOKEN or ~/.vault-token for Vault) and write "
        "every variable the catalog lists for its environment. Exit 1 when a secret could not "
        "be pulled (unless --allow-partial); 2 for bad input, production or an unsafe output.",
    )
    ep.add_argument("--stack", required=True, help="stack name: reads Pulumi.<stack>.yaml")
    ep.add_argument("--output", default=".env.local", help="file to write (default .env.local)")
    ep.add_argument("--store", help="store to read (default: the first enabled one supported)")
    ep.add_argument("--force", action="store_true", help="replace an existing output file")
    ep.add_argument(
        "--allow-partial",
        action="store_true",
        help="exit 0 even when some secrets could not be pulled (they stay placeholders)",
    )
    ep.add_argument("--project-dir", default=".", help="directory holding Pulumi.yaml (default: .)")
    ep.add_argument("--catalog", help="catalog file to use instead of infra/catalog.yaml")
    ep.set_defaults(func=cmd_env_pull)
    ee = env_sub.add_parser(
        "esc",
        help="print the stack's Pulumi ESC environment definitions (references, never values)",
        description="YAML for a shared base environment and the stack's environment importing "
        "it: OIDC logins for the home stores, one fn::open::<store>-secrets block per home "
        "store reading each secret from its home, environmentVariables as interpolations. "
        "Production is allowed: an ESC environment holds references, not values (docs/esc.md).",
    )
    ee.add_argument("--stack", required=True, help="stack name: reads Pulumi.<stack>.yaml")
    ee.add_argument(
        "--layer", choices=("base", "env", "deploy"), help="print one layer (default: all)"
    )
    ee.add_argument("--project-dir", default=".", help="directory holding Pulumi.yaml (default: .)")
    ee.add_argument("--catalog", help="catalog file to use instead of infra/catalog.yaml")
    ee.set_defaults(func=cmd_env_esc)
    vb = env_sub.add_parser(
        "vault-build",
        help="encrypt .env files into a dotenv-vault compatible .env.vault (keys to a 0600 file)",
        description="Encrypt each ENVIRONMENT=FILE with AES-256-GCM under a fresh key into "
        "DOTENV_VAULT_<ENVIRONMENT> of the vault; each environment's DOTENV_KEY is written only "
        "to --keys-file (0600, never printed). Production is refused.",
    )
    vb.add_argument(
        "--input",
        action="append",
        metavar="ENVIRONMENT=FILE",
        help="an environment and its .env file, e.g. development=.env.local (repeatable)",
    )
    vb.add_argument("--output", default=".env.vault", help="vault to write (default .env.vault)")
    vb.add_argument("--keys-file", required=True, help="file for the DOTENV_KEYs (0600)")
    vb.add_argument("--force", action="store_true", help="replace existing output files")
    vb.set_defaults(func=cmd_env_vault_build)

    t = sub.add_parser("env-template", help="render an .env template (placeholders only)")
    t.add_argument(
        "--environment",
        required=True,
        choices=_EnvironmentNames(),
        metavar="ENVIRONMENT",  # argparse would list the choices at once to make one
        help="one of %(choices)s",
    )
    t.set_defaults(func=cmd_env_template)
    pol = sub.add_parser("policies", help="list the policy pack's policies")
    pol.add_argument("--format", choices=("text", "json", "markdown"), default="text")
    pol.set_defaults(func=cmd_policies)

    r = sub.add_parser(
        "rotate",
        help="rotate a secret now in its home store, and every replica (emergency rotation)",
    )
    r.add_argument("secret", help="catalog name (JWT_SECRET), secret name, or secret ARN")
    r.add_argument("--now", action="store_true", help="rotate immediately (required)")
    r.add_argument("--stack", help="stack whose environment and region the name refers to")
    r.add_argument("--timeout", type=float, default=300.0, help="seconds to wait (default 300)")
    r.add_argument("--poll-interval", type=float, default=2.0, help=argparse.SUPPRESS)
    r.add_argument("--project-dir", default=".", help="directory holding Pulumi.yaml (default: .)")
    r.set_defaults(func=cmd_rotate)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run a command; its exit code (see the module docstring).

    Ctrl-C ends with one line on stderr and 130; a closed stdout (``| head``) ends silently with
    141, what a shell reports for a program killed by SIGPIPE (the reader's status stays the
    pipeline's unless ``pipefail`` is set)."""
    start, start_cpu = time.perf_counter(), time.process_time()
    _timings.clear()
    collecting = gc.isenabled()
    ending = False  # True once the command is known to end the process itself
    try:
        args = build_parser().parse_args(argv)
        heavy = args.command in _HEAVY
        ending = argv is None and heavy
        if argv is None:
            _handle_ctrl_c(heavy)
            _complete_writes()
        if heavy:
            # A plan allocates millions of small objects (the provider SDKs' classes at import,
            # futures and protobuf messages per resource) and frees almost none before it ends:
            # the cyclic collector's full passes over that heap cost seconds and reclaim next to
            # nothing (issue 15). Reference counting still frees everything acyclic; the
            # collector is back on, as it was, when the command returns.
            gc.disable()
        _check_names(args)
        code: int = args.func(args)
        sys.stdout.flush()  # a broken pipe shows here, not at the interpreter's exit
    except KeyboardInterrupt:
        _interrupted()
    except BrokenPipeError:
        _quiet_stdout()
        return EXIT_BROKEN_PIPE
    except UnicodeEncodeError as exc:
        _quiet_stdout()
        _fail(
            f"the output's encoding ({exc.encoding}) cannot hold its text: use a UTF-8 locale "
            "or set PYTHONIOENCODING=utf-8",
            EXIT_OUTPUT,
        )
    except OSError as exc:  # the output (stdout) could not be written: a full disk, EIO...
        _quiet_stdout()
        what = exc.filename or "the output"
        _fail(f"cannot write {what}: {exc.strerror or type(exc).__name__}", EXIT_OUTPUT)
    finally:
        # Not re-enabled when the process ends next: the first allocation after gc.enable()
        # would start a full collection of everything the command allocated (0.3 s after a
        # plan), for memory the operating system takes back at once.
        if collecting and not ending:
            gc.enable()
        _print_timings(time.perf_counter() - start, time.process_time() - start_cpu)
    if ending:
        _exit_now(code)
    return code


def _complete_writes() -> None:
    """With PYTHONUNBUFFERED (usual in containers) stdout is a text wrapper straight over the
    descriptor, which drops the rest of a partial write without an error: ``plan --format json |
    head -1`` was a cut document and exit 0 where text gave 141. Through a BufferedWriter every
    write completes or raises (BrokenPipeError: 141), whatever the format; lines still go out as
    they are written."""
    raw = getattr(sys.stdout, "buffer", None)
    if isinstance(raw, io.RawIOBase):
        sys.stdout.flush()
        sys.stdout = io.TextIOWrapper(
            io.BufferedWriter(raw),
            encoding=sys.stdout.encoding,
            errors=sys.stdout.errors,
            line_buffering=True,
        )


def _handle_ctrl_c(heavy: bool) -> None:
    """Run as the program: a command that plans or judges a stack ends at once on Ctrl-C, from
    the signal handler (:mod:`infra.interrupts`; a KeyboardInterrupt inside the Pulumi SDK was
    swallowed, hung or became a traceback); the others get Python's KeyboardInterrupt back."""
    if heavy:
        import nt_secrets.entry  # noqa: F401  (installs the handler when run as -m nt_secrets.cli)
    else:
        signal.signal(signal.SIGINT, signal.default_int_handler)


@contextmanager
def _report() -> Iterator[None]:
    """The report phase: when stdout is a file, a Ctrl-C waits for the report to be written
    whole (a file holds all of it or nothing); to a terminal or a pipe it stops at once."""
    from infra import interrupts

    with phase("report"):
        try:
            to_file = stat.S_ISREG(os.fstat(sys.stdout.fileno()).st_mode)
        except (OSError, ValueError, AttributeError):  # stdout without a descriptor (tests)
            to_file = False
        if not to_file:
            yield
            return
        with interrupts.whole():
            yield
            sys.stdout.flush()


#: Commands that plan or judge a whole stack: the garbage collector is off while they run and,
#: run as the program (``argv`` None), they end without the interpreter's teardown.
_HEAVY = frozenset({"plan", "check", "explain", "access"})


def _exit_now(code: int) -> NoReturn:
    """End the process with ``code`` once stdout and stderr are flushed, skipping the
    interpreter's teardown: freeing a plan's objects one by one costs 0.5-1 s of CPU and gives
    back nothing the operating system would not take back at once (mypy ends the same way).
    Only for commands that hold no open file, temporary directory or thread whose clean-up
    matters."""
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _quiet_stdout()
        code = EXIT_BROKEN_PIPE
    with suppress(OSError):
        sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
