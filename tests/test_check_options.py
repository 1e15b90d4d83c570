"""The everyday flags of ``nt-secrets check`` and the ``.nt-secrets.yaml`` that holds them, as a
user relies on them: report files beside stdout (atomic), ``--soft-fail``, ``--policy`` and
``--skip-policy`` (ids or checkov ids), baselines (matched by policy, resource and location,
never hiding a new finding), the options file (strict), the offline sources tunable in the pack
config, and every report saying how many resources it judged.

Every run is against a public state file of a foreign project (tests/fixtures/reference/
real-stacks), copied into the test's directory where a case changes it.
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

import pytest

from nt_secrets.outputs import OutputError, write_atomically
from tests.plans import run_cli

from .conftest import REAL_STACKS, reference_file

AZURE = "azure-rmq-dev-checkpoint.json"  # 26 resources, 15 plaintext findings (state scan)
TESTDATA = "pulumi-testdata-checkpoint-secrets.json"  # 30 resources, 10 pack findings
FAKE_PASSWORD = "FAKE-planted-Passw0rd-not-real"  # pragma: allowlist secret


def state(tmp: Path, name: str = AZURE) -> Path:
    """A copy of a real state file in ``tmp``."""
    target = tmp / name
    target.write_bytes(reference_file(REAL_STACKS / name).read_bytes())
    return target


def check(tmp: Path, *args: str) -> Any:
    return run_cli("check", *args, cwd=tmp)


def policies_of(stdout: str) -> list[str]:
    return sorted(v["policy"] for v in json.loads(stdout)["violations"])


def edit_state(path: Path, change: Any) -> None:
    doc = json.loads(path.read_text())
    change(doc["checkpoint"]["latest"]["resources"])
    path.write_text(json.dumps(doc))


def vm(resources: list[dict[str, Any]]) -> dict[str, Any]:
    return next(r for r in resources if r["urn"].endswith("::vm-service"))


# ---- --output-file ------------------------------------------------------------------------------

OUTPUTS = [
    ("r.json", lambda t: json.loads(t)["summary"]["resources"] == 26),
    ("r.sarif", lambda t: json.loads(t)["runs"][0]["properties"]["resources"] == 26),
    ("r.md", lambda t: t.startswith("### Policy report") and "Judged 26 resources." in t),
    ("r.txt", lambda t: "\x1b[" not in t and t.rstrip().endswith("Judged 26 resources.")),
    ("R.JSON", lambda t: json.loads(t)["summary"]["total"] == 15),
]


@pytest.mark.parametrize(("name", "reads_as"), OUTPUTS, ids=[o[0] for o in OUTPUTS])
def test_output_file_format_comes_from_its_extension(
    tmp_path: Path, name: str, reads_as: Any
) -> None:
    proc = check(tmp_path, "--state", str(state(tmp_path)), "--output-file", name)
    assert proc.returncode == 1
    assert "15 violations" in proc.stdout  # stdout's report is still there, in its own format
    assert reads_as((tmp_path / name).read_text())


def test_output_files_repeat_and_never_hold_a_credential(tmp_path: Path) -> None:
    names = ["a.json", "b.sarif", "c.md", "d.txt"]
    args = [a for n in names for a in ("--output-file", n)]
    proc = check(tmp_path, "--state", str(state(tmp_path)), *args, "--format", "json")
    assert proc.returncode == 1 and json.loads(proc.stdout)["summary"]["resources"] == 26
    for n in names:
        assert "Password1234!" not in (tmp_path / n).read_text()  # the state's plaintext password


BAD_OUTPUTS = [
    (["--output-file", "r.xml"], "unknown extension"),
    (["--output-file", "missing/r.json"], "does not exist"),
    (["--output-file", "."], "unknown extension"),
    (["--output-file", "r.json", "--output-file", "./r.json"], "named twice"),
]


@pytest.mark.parametrize(("args", "message"), BAD_OUTPUTS, ids=[m for _, m in BAD_OUTPUTS])
def test_a_bad_output_file_is_bad_input_and_nothing_is_written(
    tmp_path: Path, args: list[str], message: str
) -> None:
    path = state(tmp_path)
    before = sorted(os.listdir(tmp_path))
    proc = check(tmp_path, "--state", str(path), *args, "--output-file", "ok.json")
    assert proc.returncode == 2 and message in proc.stderr and proc.stdout == ""
    assert sorted(os.listdir(tmp_path)) == before  # not even the good one


def test_a_report_file_is_replaced_whole_or_not_at_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "r.json"
    target.write_text("the previous report\n")

    def failing_replace(src: Any, dst: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OutputError, match="No space left"):
        write_atomically(target, "{}\n")
    assert target.read_text() == "the previous report\n"
    assert os.listdir(tmp_path) == ["r.json"]  # no temporary file left behind


# ---- --soft-fail --------------------------------------------------------------------------------

SOFT = [
    ("findings, no flag", AZURE, [], 1),
    ("findings, --soft-fail", AZURE, ["--soft-fail"], 0),
    ("clean, --soft-fail", "gcp-gke-dev-checkpoint.json", ["--soft-fail"], 0),
]


@pytest.mark.parametrize(("case", "name", "args", "code"), SOFT, ids=[s[0] for s in SOFT])
def test_soft_fail_exits_0_with_findings(
    tmp_path: Path, case: str, name: str, args: list[str], code: int
) -> None:
    assert check(tmp_path, "--state", str(state(tmp_path, name)), *args).returncode == code


def test_soft_fail_still_exits_2_on_bad_input(tmp_path: Path) -> None:
    bad = tmp_path / "state.json"
    bad.write_text("{not json")
    proc = check(tmp_path, "--state", str(bad), "--soft-fail")
    assert proc.returncode == 2 and proc.stdout == ""


# ---- --policy / --skip-policy -------------------------------------------------------------------

SELECTION = [
    ("everything", [], 10),
    ("one policy by id", ["--policy", "aws-sns-topic-kms"], 2),
    ("one policy by checkov id", ["--policy", "CKV_AWS_26"], 2),
    ("a checkov id in lower case", ["--policy", "ckv_aws_26"], 2),
    ("two policies", ["--policy", "aws-sns-topic-kms", "--policy", "CKV_AWS_158"], 4),
    ("skip by id", ["--skip-policy", "aws-iam-no-broad-managed-policies"], 5),
    ("skip by checkov id", ["--skip-policy", "CKV_AWS_274", "--skip-policy", "CKV_AWS_26"], 3),
    ("select and skip", ["--policy", "CKV_AWS_26", "--skip-policy", "aws-sns-topic-kms"], 0),
]


@pytest.mark.parametrize(("case", "args", "count"), SELECTION, ids=[s[0] for s in SELECTION])
def test_policy_selection(tmp_path: Path, case: str, args: list[str], count: int) -> None:
    path = state(tmp_path, TESTDATA)
    proc = check(tmp_path, "--state", str(path), "--format", "json", *args)
    assert len(policies_of(proc.stdout)) == count
    assert proc.returncode == (1 if count else 0)


def test_the_state_scan_is_a_policy_like_any_other(tmp_path: Path) -> None:
    path = str(state(tmp_path))
    only = check(
        tmp_path, "--state", path, "--format", "json", "--policy", "state-plaintext-secret"
    )
    assert set(policies_of(only.stdout)) == {"state-plaintext-secret"}
    skipped = check(tmp_path, "--state", path, "--skip-policy", "state-plaintext-secret")
    assert skipped.returncode == 0 and "No policy violations." in skipped.stdout


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--policy", "no-such-policy"], "no-such-policy"),
        (["--skip-policy", "CKV_AWS_999999"], "CKV_AWS_999999"),
        (["--policy", "aws-sns-topic-kms", "--policy", "typo-one"], "typo-one"),
    ],
)
def test_unknown_policy_names_are_bad_input_naming_them(
    tmp_path: Path, args: list[str], named: str
) -> None:
    proc = check(tmp_path, "--state", str(state(tmp_path)), *args)
    assert proc.returncode == 2 and named in proc.stderr and proc.stdout == ""


# ---- baselines ----------------------------------------------------------------------------------


def test_a_baseline_accepts_what_it_recorded(tmp_path: Path) -> None:
    path = state(tmp_path)
    made = check(tmp_path, "--state", str(path), "--create-baseline", "base.json")
    assert made.returncode == 1  # the run itself reports as usual
    text = (tmp_path / "base.json").read_text()
    assert "Password1234!" not in text and "hint:" not in text  # keys only, never a value
    proc = check(tmp_path, "--state", str(path), "--baseline", "base.json")
    assert proc.returncode == 0 and "15 findings accepted by the baseline" in proc.stdout


def _plant_resource(resources: list[dict[str, Any]]) -> None:
    new = copy.deepcopy(vm(resources))
    new["urn"] = new["urn"].replace("::vm-service", "::vm-planted")
    new["inputs"]["adminPassword"] = FAKE_PASSWORD
    new["outputs"] = {}
    resources.append(new)


def _plant_property(resources: list[dict[str, Any]]) -> None:
    vm(resources)["inputs"]["dbPassword"] = FAKE_PASSWORD


def _plant_list_element(resources: list[dict[str, Any]]) -> None:
    """One more container volume with a plaintext account key (an accepted kind, a new place)."""
    group = next(r for r in resources if r["urn"].endswith("::aci-rmq"))
    volumes = group["inputs"]["containers"][0]["volumes"]
    volumes.append(copy.deepcopy(volumes[0]))


def _change_value(resources: list[dict[str, Any]]) -> None:
    """The accepted plaintext password changed (its length too): still the same finding."""
    vm(resources)["inputs"]["adminPassword"] = FAKE_PASSWORD
    vm(resources)["outputs"]["adminPassword"] = FAKE_PASSWORD


#: (case, change to the state after the baseline, findings reported, accepted)
BASELINE_CASES = [
    ("nothing changed", lambda r: None, 0, 15),
    ("a value changed, the finding did not", _change_value, 0, 15),
    ("a new resource with a plaintext password", _plant_resource, 1, 15),
    ("a new property of an accepted resource", _plant_property, 1, 15),
    ("a new element of an accepted list", _plant_list_element, 1, 15),
]


@pytest.mark.parametrize(
    ("case", "change", "reported", "accepted"),
    BASELINE_CASES,
    ids=[c[0] for c in BASELINE_CASES],
)
def test_a_baseline_never_hides_a_new_finding(
    tmp_path: Path, case: str, change: Any, reported: int | None, accepted: int | None
) -> None:
    path = state(tmp_path)
    check(tmp_path, "--state", str(path), "--create-baseline", "base.json")
    edit_state(path, change)
    full = policies_of(check(tmp_path, "--state", str(path), "--format", "json").stdout)
    proc = check(tmp_path, "--state", str(path), "--baseline", "base.json", "--format", "json")
    doc = json.loads(proc.stdout)
    assert doc["summary"]["total"] == reported
    assert doc["summary"]["acceptedByBaseline"] == accepted
    assert reported + accepted == len(full)
    assert proc.returncode == (1 if reported else 0)


def _v(policy: str, urn: str | None, message: str) -> Any:
    from policies.model import Category, Enforcement, Severity, Violation

    return Violation(policy, Severity.HIGH, Enforcement.MANDATORY, Category.PLAINTEXT, urn, message)


U1, U2 = "urn:pulumi:s::p::t::a", "urn:pulumi:s::p::t::b"
#: (case, accepted findings, current findings, how many current ones are reported)
MATCHING = [
    ("same finding", [_v("p", U1, "x: is bad")], [_v("p", U1, "x: is bad")], 1 - 1),
    ("another value", [_v("p", U1, "size is 7")], [_v("p", U1, "size is 9")], 0),
    (
        "another quoted value",
        [_v("p", U1, "path 'a/*' grants")],
        [_v("p", U1, "path 'b/*' grants")],
        0,
    ),
    (
        "another hint",
        [_v("p", U1, "k: key (hint: … (3 chars))")],
        [_v("p", U1, "k: key (hint: … (9 chars))")],
        0,
    ),
    ("another policy", [_v("p", U1, "x: is bad")], [_v("q", U1, "x: is bad")], 1),
    ("another resource", [_v("p", U1, "x: is bad")], [_v("p", U2, "x: is bad")], 1),
    ("another property", [_v("p", U1, "x: is bad")], [_v("p", U1, "y: is bad")], 1),
    (
        "the same property in the outputs",
        [_v("p", U1, "x: is bad")],
        [_v("p", U1, "outputs: x: is bad")],
        1,
    ),
    ("another kind of finding", [_v("p", U1, "x: is bad")], [_v("p", U1, "x: is worse")], 1),
    ("the stack as a whole", [_v("p", None, "no trail")], [_v("p", None, "no trail")], 0),
    (
        "one more under an accepted key: all of that key reported",
        [_v("p", U1, "statement 1 allows s3:*")],
        [_v("p", U1, "statement 1 allows s3:*"), _v("p", U1, "statement 2 allows s3:*")],
        2,
    ),
    (
        "fewer under an accepted key",
        [_v("p", U1, "statement 1 allows s3:*"), _v("p", U1, "statement 2 allows s3:*")],
        [_v("p", U1, "statement 1 allows s3:*")],
        0,
    ),
]


@pytest.mark.parametrize(
    ("case", "accepted", "current", "reported"), MATCHING, ids=[m[0] for m in MATCHING]
)
def test_baseline_matching(case: str, accepted: Any, current: Any, reported: int) -> None:
    from nt_secrets.baseline import apply, build

    shown, hidden = apply(build(accepted), current)
    assert len(shown) == reported and hidden == len(current) - reported


BAD_BASELINES = [
    ("not JSON", "{", "not a JSON document"),
    ("a list", "[]", "(document)"),
    ("no version", '{"findings": []}', "version"),
    ("a future version", '{"version": 2, "findings": []}', "version"),
    ("an unknown key", '{"version": 1, "findings": [], "notes": "x"}', "notes"),
    (
        "a finding without a resource key",
        '{"version": 1, "findings": [{"policy": "p", "location": ""}]}',
        "findings.0.resource",
    ),
    (
        "a count of zero",
        '{"version": 1, "findings": [{"policy": "p", "resource": null, "location": "", '
        '"count": 0}]}',
        "findings.0.count",
    ),
]


@pytest.mark.parametrize(
    ("case", "content", "named"), BAD_BASELINES, ids=[b[0] for b in BAD_BASELINES]
)
def test_a_bad_baseline_is_bad_input(tmp_path: Path, case: str, content: str, named: str) -> None:
    (tmp_path / "base.json").write_text(content)
    proc = check(tmp_path, "--state", str(state(tmp_path)), "--baseline", "base.json")
    assert proc.returncode == 2 and named in proc.stderr and proc.stdout == ""


def test_baseline_and_create_baseline_together_are_refused(tmp_path: Path) -> None:
    proc = check(
        tmp_path, "--state", str(state(tmp_path)), "--baseline", "a.json", "--create-baseline", "b"
    )
    assert proc.returncode == 2 and "give one" in proc.stderr


# ---- .nt-secrets.yaml ---------------------------------------------------------------------------

CONFIGS = [
    ("soft-fail from the file", "soft-fail: true\n", [], 0, None),
    ("a policy list from the file", "policy: [CKV_AWS_26]\nformat: json\n", [], 1, 2),
    (
        "a single policy as a string",
        "skip-policy: aws-iam-no-broad-managed-policies\nformat: json\n",
        [],
        1,
        5,
    ),
    (
        "the flag replaces the file's list",
        "policy: [CKV_AWS_26]\nformat: json\n",
        ["--policy", "CKV_AWS_158"],
        1,
        2,
    ),
    ("the flag's format wins", "format: markdown\n", ["--format", "json"], 1, 10),
    ("an empty file", "", ["--format", "json"], 1, 10),
]


@pytest.mark.parametrize(
    ("case", "content", "args", "code", "count"), CONFIGS, ids=[c[0] for c in CONFIGS]
)
def test_options_file_in_the_current_directory(
    tmp_path: Path, case: str, content: str, args: list[str], code: int, count: int | None
) -> None:
    (tmp_path / ".nt-secrets.yaml").write_text(content)
    path = state(tmp_path, TESTDATA)
    proc = check(tmp_path, "--state", str(path), *args)
    assert proc.returncode == code, proc.stderr
    if count is not None:
        assert len(policies_of(proc.stdout)) == count


def test_options_file_given_with_config_and_its_relative_paths(tmp_path: Path) -> None:
    conf = tmp_path / "ci"
    (conf / "reports").mkdir(parents=True)
    (conf / "opts.yaml").write_text("output-file: [reports/r.sarif]\nsoft-fail: true\n")
    proc = check(tmp_path, "--state", str(state(tmp_path)), "--config", "ci/opts.yaml")
    assert proc.returncode == 0
    assert json.loads((conf / "reports" / "r.sarif").read_text())["version"] == "2.1.0"


BAD_CONFIGS = [
    ("an unknown key", "soft-fail: true\nskip-check: [x]\n", "unknown key skip-check"),
    ("snake case", "soft_fail: true\n", "unknown key soft_fail"),
    ("a wrong type", "soft-fail: yes please\n", "soft-fail"),
    ("a bad profile", "profile: everything\n", "profile"),
    ("too many jobs", "jobs: 0\n", "jobs"),
    ("not a mapping", "- soft-fail\n", "expected a mapping"),
    ("not YAML", "soft-fail: [\n", "not valid YAML"),
    ("an unknown policy", "policy: [nope]\n", "nope"),
    ("an unknown extension", "output-file: r.html\n", "unknown extension"),
]


@pytest.mark.parametrize(("case", "content", "named"), BAD_CONFIGS, ids=[c[0] for c in BAD_CONFIGS])
def test_a_bad_options_file_is_bad_input_naming_the_key(
    tmp_path: Path, case: str, content: str, named: str
) -> None:
    (tmp_path / ".nt-secrets.yaml").write_text(content)
    proc = check(tmp_path, "--state", str(state(tmp_path)), "--soft-fail")
    assert proc.returncode == 2 and named in proc.stderr and proc.stdout == ""
    assert ".nt-secrets.yaml" in proc.stderr or "--" in proc.stderr


def test_a_missing_config_file_is_bad_input(tmp_path: Path) -> None:
    proc = check(tmp_path, "--state", str(state(tmp_path)), "--config", "nope.yaml")
    assert proc.returncode == 2 and "nope.yaml" in proc.stderr


# ---- the offline sources in the pack config -----------------------------------------------------

PACK_CONFIGS = [
    ("advisory", {"state-plaintext-secret": "advisory"}, 0, 15),
    ("disabled", {"state-plaintext-secret": "disabled"}, 0, 0),
    ("all advisory", {"all": "advisory"}, 0, 15),
    (
        "one resource exempt",
        {"state-plaintext-secret": {"exemptResources": ["sarmqsa"]}},
        1,
        10,
    ),
]


@pytest.mark.parametrize(
    ("case", "document", "code", "count"), PACK_CONFIGS, ids=[c[0] for c in PACK_CONFIGS]
)
def test_the_state_scan_is_tuned_by_the_pack_config(
    tmp_path: Path, case: str, document: dict[str, Any], code: int, count: int
) -> None:
    (tmp_path / "pack.json").write_text(json.dumps(document))
    path = str(state(tmp_path))
    proc = check(tmp_path, "--state", path, "--policy-pack-config", "pack.json", "--format", "json")
    assert proc.returncode == code and len(policies_of(proc.stdout)) == count


@pytest.mark.parametrize(
    ("document", "named"),
    [
        ({"state-plaintext-secret": "loud"}, "state-plaintext-secret"),
        ({"state-plaintext-secret": {"threshold": 3}}, "threshold"),
        ({"state-plaintext-secret": 3}, "state-plaintext-secret"),
    ],
)
def test_a_bad_setting_of_the_state_scan_is_bad_input(
    tmp_path: Path, document: dict[str, Any], named: str
) -> None:
    (tmp_path / "pack.json").write_text(json.dumps(document))
    proc = check(tmp_path, "--state", str(state(tmp_path)), "--policy-pack-config", "pack.json")
    assert proc.returncode == 2 and named in proc.stderr


def test_policies_lists_every_finding_source_and_its_rules() -> None:
    proc = run_cli("policies", "--format", "json", cwd=Path.cwd())
    listed = {p["id"]: p for p in json.loads(proc.stdout)}
    assert listed["state-plaintext-secret"]["source"] == "nt-secrets"
    assert listed["pulumi-stackconfig-plaintext-credentials"]["source"] == "nt-secrets"
    assert listed["aws-protect-production-data"]["profile"] == "project"
    assert listed["vault-policy-least-privilege"]["profile"] == "mixed"
    assert listed["aws-kms-key-rotation"]["profile"] == "universal"


def test_offline_source_ids_agree_between_the_pack_and_nt_secrets() -> None:
    from nt_secrets.sources import OFFLINE_IDS
    from policies.runner import OFFLINE_SOURCES

    assert set(OFFLINE_SOURCES) == OFFLINE_IDS


# ---- the profile from the command line ----------------------------------------------------------


def test_profile_flag_turns_house_rules_on_for_a_foreign_estate(tmp_path: Path) -> None:
    """A foreign Vault policy whose glob is outside the project's path layout: a house-rule
    finding only with ``--profile project``."""
    export = {
        "version": 3,
        "deployment": {
            "manifest": {"time": "2024-01-01T00:00:00Z", "magic": "", "version": "v3"},
            "resources": [
                {
                    "urn": "urn:pulumi:dev::someone-else::vault:index/policy:Policy::app",
                    "custom": True,
                    "type": "vault:index/policy:Policy",
                    "inputs": {
                        "name": "app",
                        "policy": 'path "secret/data/app/*" { capabilities = ["read"] }',
                    },
                }
            ],
        },
    }
    path = tmp_path / "export.json"
    path.write_text(json.dumps(export))
    default = check(tmp_path, "--state", str(path), "--format", "json")
    assert policies_of(default.stdout) == []
    house = check(tmp_path, "--state", str(path), "--format", "json", "--profile", "project")
    assert policies_of(house.stdout) == ["vault-policy-least-privilege"]


def test_every_option_of_the_file_is_read_when_there_is_no_file() -> None:
    """The options without a file (no pydantic loaded) are the file's options, all unset."""
    import dataclasses

    from nt_secrets.configfile import ConfigFile
    from nt_secrets.options import _NoFile

    assert {f.name for f in dataclasses.fields(_NoFile)} == set(ConfigFile.model_fields)
    assert all(v is None for v in dataclasses.asdict(_NoFile()).values())
