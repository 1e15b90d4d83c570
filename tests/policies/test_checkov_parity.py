"""checkov parity (issue 9, item 8): for every checkov ID the pack maps, the pack's verdicts on
checkov's own example fixtures for that check agree with checkov's, apart from the deliberate
differences listed in :data:`DIFFERENCES` (each with its reason; rendered in docs/checkov-parity.md).

The fixtures are vendored under tests/fixtures/checkov/ (Apache-2.0; SOURCES.md records the commit
and paths): per check, the Terraform checkov's test runs and the pass/fail resource addresses it
expects. Each Terraform resource becomes the Pulumi resource record the pack judges: type token from
pulumi-aws's naming (types.json), property names snake_case to camelCase, nested blocks to objects or
(for the names Pulumi pluralises) lists, ``jsonencode(...)``/heredoc documents and
``data.aws_iam_policy_document`` to JSON strings, references to other resources to concrete ARNs
(what the engine sees at ``pulumi up``) and variables to unknown values (what it sees at preview).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import hcl2
import pytest
from hcl2 import SerializationOptions

from policies.model import UNKNOWN, ResourceRecord
from policies.runner import run
from tests.policies.parity import Case, mapped_ids, policies_for
from tests.policies.sdk_schema import has_property, resource_classes

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "checkov"
DOCS = Path(__file__).resolve().parent.parent.parent / "docs" / "checkov-parity.md"
ACCOUNT = "123456789012"
_OPTIONS = SerializationOptions(
    strip_string_quotes=True, preserve_heredocs=False, with_comments=False
)

#: Terraform block names that Pulumi exposes as a pluralised list (every other block with at most
#: one item is an object, as pulumi-aws's MaxItems=1 flattening does).
PLURAL_BLOCKS = {
    "inline_policy": "inlinePolicies",
    "replica": "replicas",
    "event_selector": "eventSelectors",
    "advanced_event_selector": "advancedEventSelectors",
    "field_selector": "fieldSelectors",
    "data_resource": "dataResources",
    "ebs_block_device": "ebsBlockDevices",
}
#: The same, where it depends on the resource (an inline bucket configuration has one ``rule``).
TYPE_PLURAL_BLOCKS = {
    ("aws_s3_bucket_server_side_encryption_configuration", "rule"): "rules",
}

#: The part of a multi-concern policy that is one checkov check: the property its message names.
#: (A policy that bundles several checkov IDs reports each concern separately.)
CONCERN = {
    "CKV_AWS_35": "kmsKeyId",
    "CKV_AWS_36": "enableLogFileValidation",
    "CKV_AWS_67": "isMultiRegionTrail",
    "CKV_AWS_53": "blockPublicAcls",
    "CKV_AWS_54": "blockPublicPolicy",
    "CKV_AWS_55": "ignorePublicAcls",
    "CKV_AWS_56": "restrictPublicBuckets",
    "CKV_AWS_66": "retentionInDays",
    "CKV_AWS_158": "kmsKeyId",
}

_PARSER = (
    "Terraform 0.11 syntax (a block written inside a list) that current HCL parsers reject; "
    "it has no Pulumi equivalent"
)
_FOR_EACH = (
    "a for_each instance: Terraform expands it at plan time, a Pulumi program declares each "
    "resource itself (the translated fixture has no such instance)"
)

_LOOKUP = (
    'a `data "aws_iam_policy"` lookup is a Pulumi invoke (aws.iam.get_policy), not a resource: '
    "it grants nothing and a policy pack never sees it; attaching the policy it finds is judged "
    "(the fixture's roles, attachments and permission sets)"
)

#: (check id, resource address) -> why the pack deliberately differs from checkov's verdict.
DIFFERENCES: dict[tuple[str, str], str] = {
    ("CKV_AWS_1", "aws_iam_policy_document.list"): _PARSER,
    ("CKV_AWS_49", "aws_iam_policy_document.unknown"): _PARSER,
    ("CKV_AWS_21", 'aws_s3_bucket.this["test-bucket1"]'): _FOR_EACH,
    ("CKV_AWS_21", 'aws_s3_bucket.this["test-bucket2"]'): _FOR_EACH,
    ("CKV_AWS_145", "aws_s3_bucket.bucket_good_6"): (
        "a dynamic block (Terraform construct without a Pulumi equivalent); expanded, it is "
        "aws:kms without kms_master_key_id, i.e. the AWS-managed aws/s3 key, below the pack's "
        "customer-managed-key bar"
    ),
    **{
        ("CKV2_AWS_56", f"aws_iam_policy.{name}"): _LOOKUP
        for name in ("name_pass1", "arn_pass2", "name_fail1", "arn_fail2")
    },
    ("CKV_AWS_348", "aws_iam_access_key.pass"): (
        "stricter on purpose: every IAM user access key is a long-lived credential "
        "(aws-iam-no-access-keys); checkov fails only the root user's"
    ),
    ("CKV_AWS_356", "aws_iam_policy_document.pass"): (
        "stricter on purpose: arn:aws:s3:::* names every bucket of every account, as unscoped as "
        "'*' for s3:GetBucketLocation; checkov fails only the bare '*'"
    ),
}

#: Known disagreements awaiting a change outside this test (policies/lib/iam.py, policies/aws/iam.py):
#: (check id, address) -> the reason and the change. Listed so the table stays honest; a fix makes
#: the test fail until the entry is removed.
PENDING: dict[tuple[str, str], str] = {}


# --------------------------------------------------------------------------- translation


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(w[:1].upper() + w[1:] for w in rest)


@cache
def _types() -> dict[str, str | None]:
    return {k: v for k, v in json.loads((FIXTURES / "types.json").read_text())["types"]}


def token(tf_type: str) -> str:
    if tf_type.startswith("provider."):
        return f"pulumi:providers:{tf_type.removeprefix('provider.')}"
    return _types().get(tf_type) or f"tf:{tf_type}"


@dataclass
class Module:
    """One fixture file (or directory): its resources and data sources, by address."""

    resources: dict[str, tuple[str, dict[str, Any]]]  # address -> (tf type, raw conf)
    data: dict[str, dict[str, Any]]  # "data.aws_iam_policy_document.x" -> raw conf
    prefix: str = ""
    variables: dict[str, Any] = field(default_factory=dict)  # name -> default (or absent)
    locals: dict[str, Any] = field(default_factory=dict)

    def urn(self, address: str) -> str:
        tf_type, _ = self.resources[address]
        return f"urn:pulumi:parity::checkov::{token(tf_type)}::{self.prefix}{address}"


_REF = re.compile(r"^\$\{([A-Za-z0-9_.\[\]\"*-]+)\}$")
_JSONENCODE = re.compile(r"^\$\{jsonencode\((.*)\)\}$", re.S)


def _arn(tf_type: str, name: str) -> str:
    service = tf_type.split("_")[1] if "_" in tf_type else "tf"
    return f"arn:aws:{service}:us-east-1:{ACCOUNT}:{tf_type}/{name}"


class Translator:
    def __init__(self, module: Module, tf_type: str = "") -> None:
        self.module = module
        self.tf_type = tf_type
        self.deps: dict[str, set[str]] = {}

    def reference(self, expression: str, prop: str) -> Any:
        """A whole-value reference: another resource's attribute (a concrete value, as at
        ``pulumi up``), a policy document data source (its JSON), or unknown (variables, locals)."""
        parts = expression.split(".")
        if parts[0] == "var" and len(parts) == 2:
            # A variable is stack configuration in Pulumi: known at preview. Its default, or a
            # value that stands for it (equal wherever the same variable is used).
            if parts[1] in self.module.variables:
                return self.value(self.module.variables[parts[1]], prop)
            return f"tfvar-{parts[1]}"
        if parts[0] == "local" and len(parts) == 2 and parts[1] in self.module.locals:
            return self.value(self.module.locals[parts[1]], prop)
        if parts[0] == "data" and len(parts) >= 3 and parts[1] == "aws_iam_policy_document":
            conf = self.module.data.get(".".join(parts[:3]))
            return policy_document(conf, self) if conf is not None else UNKNOWN
        if len(parts) >= 2 and f"{parts[0]}.{parts[1]}" in self.module.resources:
            address = f"{parts[0]}.{parts[1]}"
            self.deps.setdefault(prop, set()).add(self.module.urn(address))
            attribute = parts[2] if len(parts) > 2 else "id"
            if attribute in ("arn", "id", "key_id", "name"):
                return _arn(parts[0], parts[1])
            return UNKNOWN
        if len(parts) >= 2 and parts[0].startswith("aws_"):
            # a resource outside the fixture: a concrete ARN all the same
            return _arn(parts[0], parts[1])
        return UNKNOWN

    def value(self, raw: Any, prop: str) -> Any:
        if isinstance(raw, str):
            encoded = _JSONENCODE.match(raw)
            if encoded:
                parsed = hcl2.loads(f"x = {encoded.group(1)}\n", serialization_options=_OPTIONS)
                return json.dumps(self.value(parsed["x"], prop))
            ref = _REF.match(raw)
            if ref:
                return self.reference(ref.group(1), prop)
            if raw.startswith("${") and raw.endswith("}"):
                return UNKNOWN  # an expression (function call, conditional): unknown at preview
            return re.sub(
                r"\$\{([A-Za-z0-9_.]+)\}",
                lambda m: str(self.reference(m.group(1), prop)),
                raw,
            )
        if isinstance(raw, list):
            return [self.value(v, prop) for v in raw]
        if isinstance(raw, dict):
            return self.props(raw, prop, camel=False)
        return raw

    def has(self, name: str) -> bool:
        return _has(self.tf_type, name)

    def props(
        self, conf: Mapping[str, Any], prop: str = "", *, camel: bool = True
    ) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, raw in conf.items():
            if key.startswith("__") or (
                not prop
                and key
                in (
                    "depends_on",
                    "count",
                    "for_each",
                    "provider",
                    "lifecycle",
                )
            ):
                continue
            name = _camel(key) if camel else key
            top = prop or name
            blocks = (
                isinstance(raw, list)
                and raw
                and all(isinstance(b, dict) and b.get("__is_block__") for b in raw)
            )
            if blocks:
                items = [self.props(b, top) for b in raw]
                plural = TYPE_PLURAL_BLOCKS.get((self.tf_type, key)) if not prop else None
                if not plural and key in PLURAL_BLOCKS and (prop or self.has(PLURAL_BLOCKS[key])):
                    plural = PLURAL_BLOCKS[key]  # (the SSO inline policy keeps ``inlinePolicy``)
                if plural:
                    out[plural] = items
                elif len(items) == 1:
                    out[name] = items[0]
                else:
                    out[name] = items
            else:
                out[name] = self.value(raw, top)
        return out


def policy_document(conf: Mapping[str, Any], translator: Translator) -> str:
    """``data "aws_iam_policy_document"`` as the JSON document Terraform renders."""
    statements = []
    for block in conf.get("statement") or []:
        if not isinstance(block, dict):
            continue  # a computed statement list (flatten(...)): unknown here
        statement: dict[str, Any] = {"Effect": block.get("effect", "Allow")}
        for key, name in (
            ("actions", "Action"),
            ("not_actions", "NotAction"),
            ("resources", "Resource"),
            ("not_resources", "NotResource"),
        ):
            if key in block:
                statement[name] = translator.value(block[key], "policy")
        for key, name in (("principals", "Principal"), ("not_principals", "NotPrincipal")):
            for principal in block.get(key) or []:
                kind = translator.value(principal.get("type"), "policy")
                ids = translator.value(principal.get("identifiers"), "policy")
                if kind == "*":
                    statement[name] = "*"
                else:
                    statement.setdefault(name, {})[kind] = ids
        for condition in block.get("condition") or []:
            test = translator.value(condition.get("test"), "policy")
            variable = translator.value(condition.get("variable"), "policy")
            statement.setdefault("Condition", {}).setdefault(test, {})[variable] = translator.value(
                condition.get("values"), "policy"
            )
        if "sid" in block:
            statement["Sid"] = block["sid"]
        statements.append(statement)
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def _top_level_blocks(text: str) -> Iterator[str]:
    """The file's top-level blocks, one by one (brace counting outside strings is enough for
    these fixtures), for a file python-hcl2 cannot read whole."""
    depth, start = 0, 0
    for i, line in enumerate(lines := text.splitlines()):
        if depth == 0:
            start = i
        depth += line.count("{") - line.count("}")
        if depth == 0 and "{" in "".join(lines[start : i + 1]):
            yield "\n".join(lines[start : i + 1]) + "\n"


def parse_hcl(text: str) -> list[dict[str, Any]]:
    """Parsed HCL documents of a fixture file. Trailing blanks are dropped (checkov's parser
    accepts ``POLICY  `` as a heredoc terminator; python-hcl2 does not). A file that does not
    parse whole is read block by block, and a block written in Terraform 0.11 syntax that
    python-hcl2 rejects (a block inside a list) is left out: it has no Pulumi equivalent."""
    text = "\n".join(line.rstrip() for line in text.splitlines()) + "\n"
    try:
        return [hcl2.loads(text, serialization_options=_OPTIONS)]
    except Exception:
        out = []
        for block in _top_level_blocks(text):
            try:
                out.append(hcl2.loads(block, serialization_options=_OPTIONS))
            except Exception:  # noqa: S112
                continue
        return out


def load_module(files: list[Path], prefix: str = "") -> Module:
    resources: dict[str, tuple[str, dict[str, Any]]] = {}
    data: dict[str, dict[str, Any]] = {}
    variables: dict[str, Any] = {}
    locals_: dict[str, Any] = {}
    for file in files:
        if file.suffix == ".json":
            _collect_plan(json.loads(file.read_text()), resources)
            continue
        for parsed in parse_hcl(file.read_text()):
            _collect(parsed, resources, data, variables, locals_)
    return Module(resources, data, prefix, variables, locals_)


def _as_blocks(value: Any) -> Any:
    """A plan's values with nested objects marked as blocks, like parsed HCL."""
    if isinstance(value, dict):
        return {k: _as_blocks(v) for k, v in value.items() if v is not None}
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        return [{**_as_blocks(v), "__is_block__": True} for v in value]
    return value


def _collect_plan(
    plan: Mapping[str, Any], resources: dict[str, tuple[str, dict[str, Any]]]
) -> None:
    """``terraform show -json`` plan: its planned resources (values are already resolved)."""
    for resource in plan.get("planned_values", {}).get("root_module", {}).get("resources", []):
        if resource.get("mode") == "managed":
            resources[resource["address"]] = (resource["type"], _as_blocks(resource["values"]))


def _collect(
    parsed: Mapping[str, Any],
    resources: dict[str, tuple[str, dict[str, Any]]],
    data: dict[str, dict[str, Any]],
    variables: dict[str, Any],
    locals_: dict[str, Any],
) -> None:
    if True:
        for block in parsed.get("resource") or []:
            for tf_type, named in block.items():
                for name, conf in named.items():
                    resources[f"{tf_type}.{name}"] = (tf_type, conf)
        for block in parsed.get("provider") or []:  # Pulumi: an explicit provider resource
            for name, conf in block.items():
                resources[f"provider.{name}"] = (f"provider.{name}", conf)
        for block in parsed.get("data") or []:
            for tf_type, named in block.items():
                for name, conf in named.items():
                    data[f"data.{tf_type}.{name}"] = conf
        for block in parsed.get("variable") or []:
            for name, conf in block.items():
                if isinstance(conf, dict) and "default" in conf:
                    variables[name] = conf["default"]
        for block in parsed.get("locals") or []:
            locals_.update({k: v for k, v in block.items() if not k.startswith("__")})


def records(module: Module) -> dict[str, ResourceRecord]:
    """Address -> the record the pack judges. A data-source policy document under test is judged
    as the customer-managed policy (``aws:iam/policy:Policy``) that would carry it."""
    out: dict[str, ResourceRecord] = {}
    for address, (tf_type, conf) in module.resources.items():
        translator = Translator(module, tf_type)
        props = translator.props(conf)
        out[address] = ResourceRecord(
            urn=module.urn(address),
            type=token(tf_type),
            name=module.prefix + address,
            props=props,
            property_dependencies={k: tuple(sorted(v)) for k, v in translator.deps.items()},
            source="fixture",
        )
    return out


def document_records(module: Module) -> dict[str, ResourceRecord]:
    out: dict[str, ResourceRecord] = {}
    for address, conf in module.data.items():
        if not address.startswith("data.aws_iam_policy_document."):
            continue
        document = policy_document(conf, Translator(module))
        short = address.removeprefix("data.")
        out[short] = ResourceRecord(
            urn=f"urn:pulumi:parity::checkov::aws:iam/policy:Policy::{module.prefix}{short}",
            type="aws:iam/policy:Policy",
            name=short,
            props={"policy": document},
            source="fixture",
        )
    return out


# --------------------------------------------------------------------------- the cases


def vendored() -> dict[str, dict[str, Any]]:
    return {
        e.parent.name: json.loads(e.read_text()) for e in sorted(FIXTURES.glob("*/expected.json"))
    }


def _conf_module(path: Path, types: list[str]) -> Module:
    """A unit test's ``resource_conf`` (checkov's list-wrapped form) as a one-resource module."""
    raw = json.loads(path.read_text())
    conf = {k: (v[0] if isinstance(v, list) and len(v) == 1 else v) for k, v in raw.items()}

    # checkov wraps nested blocks in lists of dicts: mark them as blocks for the translator (at
    # every depth: encryption_config { provider { key_arn } }), their one-item value lists
    # unwrapped as at the top
    def block(value: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {"__is_block__": True}
        for k, v in value.items():
            if isinstance(v, list) and v and all(isinstance(i, dict) for i in v):
                out[k] = [block(i) for i in v]
            else:
                out[k] = v[0] if isinstance(v, list) and len(v) == 1 else v
        return out

    for key, value in conf.items():
        if isinstance(value, dict):
            conf[key] = [block(value)]
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            conf[key] = [block(v) for v in value]
    tf_type = next((t for t in types if _types().get(t) and _takes(t, conf)), types[0])
    return Module({f"{tf_type}.{path.name}": (tf_type, conf)}, {}, "")


def _takes(tf_type: str, conf: Mapping[str, Any]) -> bool:
    """The Pulumi resource of ``tf_type`` has every argument of ``conf`` (a unit test's
    ``resource_conf`` does not say which of the check's types it is: its arguments do)."""
    return all(_has(tf_type, _camel(k)) for k in conf)


def _has(tf_type: str, name: str) -> bool:
    """The Pulumi type of ``tf_type`` has the property ``name`` (a type no SDK has: assumed)."""
    classes = resource_classes(token(tf_type))
    return classes is None or any(has_property(c, name) for c in classes)


def verdicts(check: str, spec: Mapping[str, Any]) -> Iterator[Case]:
    folder = FIXTURES / check
    policies = policies_for(check)
    wanted = [(a, "pass") for a in spec["pass"]] + [(a, "fail") for a in spec["fail"]]
    shared = sorted(
        p
        for p in [*folder.glob("*.tf"), *folder.glob("tfplan*.json")]
        if not p.name.startswith("test_")
    )
    whole = load_module(shared) if shared else Module({}, {}, "")
    for address, expected in wanted:
        if address.endswith(".conf.json"):
            module = _conf_module(folder / address, spec["types"])
            key = next(iter(module.resources))
        elif ".tf:" in address:
            file, key = address.split(":", 1)
            module = load_module([folder / file], prefix=f"{file}:")
        else:
            module, key = whole, address
        judged = {**records(module), **document_records(module)}
        record = judged.get(key)
        if record is None:
            yield Case(check, address, expected, "missing", ())
            continue
        result = run(judged.values(), policies=policies)
        concern = CONCERN.get(check)
        messages = tuple(
            v.message
            for v in result.violations
            if v.urn == record.urn and (concern is None or concern in v.message)
        )
        yield Case(check, address, expected, "fail" if messages else "pass", messages)


@cache
def all_cases() -> tuple[Case, ...]:
    return tuple(case for check, spec in vendored().items() for case in verdicts(check, spec))


def test_every_mapped_checkov_id_has_vendored_fixtures() -> None:
    aws = mapped_ids("CKV_AWS_", "CKV2_AWS_")
    assert sorted(aws - set(vendored())) == []


def test_every_vendored_fixture_records_its_source() -> None:
    sources = (FIXTURES / "SOURCES.md").read_text()
    assert re.search(r"commit `[0-9a-f]{40}`", sources)
    assert "Apache License" in (FIXTURES / "LICENSE").read_text()
    for check, spec in vendored().items():
        assert f"| {check} | `{spec['check']}` |" in sources, check
        assert spec["sources"], check
        assert spec["pass"] or spec["fail"], check


@pytest.mark.parametrize("case", all_cases(), ids=lambda c: f"{c.check}:{c.resource}")
def test_verdict_agrees_with_checkov_or_is_a_listed_difference(case: Case) -> None:
    key = (case.check, case.resource)
    if key in DIFFERENCES or key in PENDING:
        assert not case.agrees, "listed as a difference but agrees: remove the entry"
    else:
        assert case.actual != "missing", "fixture resource not translated"
        assert case.agrees, (
            f"checkov says {case.expected}, the pack says {case.actual}: {case.messages}"
        )


def test_every_listed_difference_is_a_vendored_case() -> None:
    known = {(c.check, c.resource) for c in all_cases()}
    assert sorted((set(DIFFERENCES) | set(PENDING)) - known) == []


def test_the_differences_are_documented() -> None:
    text = DOCS.read_text()
    for (check, address), reason in {**DIFFERENCES, **PENDING}.items():
        assert f"| {check} | `{address}` | {reason} |" in text


def render_markdown() -> str:
    """docs/checkov-parity.md: ``.venv/bin/python -m tests.policies.test_checkov_parity``."""
    cases = all_cases()
    by_check: dict[str, list[Case]] = {}
    for case in cases:
        by_check.setdefault(case.check, []).append(case)
    agree = sum(c.agrees for c in cases)
    lines = [
        "# checkov parity",
        "",
        "Generated by `.venv/bin/python -m tests.policies.test_checkov_parity`; asserted by "
        "`tests/policies/test_checkov_parity.py` (part of `make test`).",
        "",
        "For every checkov ID the pack maps, checkov's own example fixtures for that check "
        "(vendored under `tests/fixtures/checkov/`, Apache-2.0, commit and paths in its "
        "`SOURCES.md`) are translated to the Pulumi resource records the pack judges and run "
        "through the pack's policies for that ID. Translation: type tokens from pulumi-aws's "
        "naming (`types.json`), snake_case to camelCase, single blocks to objects and the blocks "
        "Pulumi pluralises to lists, `jsonencode(...)`, heredocs and `aws_iam_policy_document` "
        "data sources to JSON documents, references to other resources to concrete ARNs (as at "
        "`pulumi up`), variables to their defaults (stack configuration is known at preview). "
        "A policy that bundles several checkov IDs is judged per ID on the property that ID "
        "checks.",
        "",
        f"**{agree} of {len(cases)} verdicts agree** "
        f"({len(DIFFERENCES)} deliberate differences, {len(PENDING)} pending a change).",
        "",
        "| checkov ID | pack policies | cases | agree |",
        "|---|---|---|---|",
    ]
    for check in sorted(by_check):
        ids = ", ".join(f"`{p.spec.id}`" for p in policies_for(check)) or "(none)"
        group = by_check[check]
        lines.append(f"| {check} | {ids} | {len(group)} | {sum(c.agrees for c in group)} |")
    lines += [
        "",
        "## Deliberate differences",
        "",
        "| checkov ID | resource | why |",
        "|---|---|---|",
        *(f"| {c} | `{a}` | {why} |" for (c, a), why in sorted(DIFFERENCES.items())),
        "",
        "## Pending (a change outside the parity test is needed)",
        "",
        "| checkov ID | resource | why |",
        "|---|---|---|",
        *(f"| {c} | `{a}` | {why} |" for (c, a), why in sorted(PENDING.items())),
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    from tests.policies import test_checkov_map as mapping
    from tests.policies import test_checkov_parity_gcp as gcp
    from tests.policies import test_checkov_parity_kubernetes as kubernetes

    sections = (
        render_markdown(),
        kubernetes.render_markdown(),
        gcp.render_markdown(),
        mapping.render_markdown(),
    )
    print("\n".join(sections), end="")


def test_the_mappings_are_earned() -> None:
    """A mapped ID whose policy catches none of checkov's failing cases is not equivalent."""
    caught = {c.check for c in all_cases() if c.expected == "fail" and c.actual == "fail"}
    assert sorted(set(vendored()) - caught) == []
