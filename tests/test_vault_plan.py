"""The Vault estate as the plan declares it, and its settings: every invalid setting names its key.

What the resources grant is proved on a real OpenBao server (tests/vault/); here, what the plan
declares and what the settings refuse.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.program import main
from infra.settings import SettingsError
from infra.stack import parse_settings
from nt_secrets.capture import Capture
from nt_secrets.stackfile import read_stack
from tests.plans import plan_config

from .conftest import ROOT, capture_failing, of_type

NS = "neural-trader-secrets:"
AUDIT = "vault:index/audit:Audit"
KV_SECRET = "vault:kv/secretV2:SecretV2"  # pragma: allowlist secret


def dev_config(**vault: Any) -> dict[str, str]:
    config = dict(read_stack(ROOT, "dev").config)
    block = json.loads(config[NS + "vault"]) | vault
    config[NS + "vault"] = json.dumps({k: v for k, v in block.items() if v is not None})
    return config


def plan(config: dict[str, str]) -> Capture:
    return plan_config(config, stack="dev", account_id="123456789012")


def test_values_never_reach_state_and_third_party_keys_are_placeholders(dev: Capture) -> None:
    for r in of_type(dev, KV_SECRET):
        assert "dataJson" not in r.raw_inputs  # only the write-only input
        assert r.raw_inputs["dataJsonWoVersion"] == 1 and r.raw_inputs["cas"] == 0
        labels = r.raw_inputs["customMetadata"]["data"]
        if labels["rotation-strategy"] == "third-party-manual":
            assert r.raw_inputs["dataJsonWo"] == "{}" and r.raw_inputs["disableRead"] is True
        else:
            assert r.secret_paths == ["dataJsonWo"], r.name
            assert not r.raw_inputs.get("disableRead")


def test_the_audit_device_can_be_left_to_the_server_configuration() -> None:
    assert len(of_type(plan(dev_config()), AUDIT)) == 1
    cap = plan(dev_config(audit={"declaredIn": "serverConfig"}))
    assert of_type(cap, AUDIT) == []
    assert len(of_type(cap, KV_SECRET)) > 0


INVALID = [
    (
        "plain http to a remote server",
        {"address": "http://vault.internal:8200"},
        "address",
        "https",
    ),
    ("not a URL", {"address": "vault"}, "address", "http(s) URL"),
    ("unknown key", {"colour": "blue"}, "colour", "Extra"),
    (
        "CIDR admitting everyone",
        {"appRole": {"tokenBoundCidrs": ["0.0.0.0/0"]}},
        "appRole.tokenBoundCidrs",
        "every address",
    ),
    ("no CIDR", {"appRole": {"tokenBoundCidrs": []}}, "appRole.tokenBoundCidrs", "at least 1"),
    (
        "unlimited secret id uses",
        {"appRole": {"tokenBoundCidrs": ["10.0.0.0/8"], "secretIdNumUses": 0}},
        "appRole.secretIdNumUses",
        "greater than or equal to 1",
    ),
    (
        "wildcard service account",
        {
            "kubernetes": {
                "host": "https://kubernetes.default.svc",
                "serviceAccounts": {"backtest": {"namespace": "backtests", "name": "*"}},
            }
        },
        "kubernetes.serviceAccounts.backtest.name",
        "Kubernetes name",
    ),
    (
        "token TTL above its maximum",
        {
            "kubernetes": {
                "host": "https://kubernetes.default.svc",
                "serviceAccounts": {},
                "tokenTtl": 7200,
                "tokenMaxTtl": 3600,
            }
        },
        "kubernetes",
        "tokenTtl cannot exceed tokenMaxTtl",
    ),
    ("versions unbounded", {"maxVersions": 0}, "maxVersions", "greater than or equal to 1"),
    ("audit somewhere odd", {"audit": {"declaredIn": "nowhere"}}, "audit.declaredIn", "api"),
]


@pytest.mark.parametrize(("case", "change", "key", "text"), INVALID, ids=[c[0] for c in INVALID])
def test_invalid_vault_settings_name_the_key(
    case: str, change: dict[str, Any], key: str, text: str
) -> None:
    config = dev_config(**change)
    with pytest.raises(SettingsError) as err:
        parse_settings(config)
    assert {p[0] for p in err.value.problems} == {f"{NS}vault.{key}"}, err.value
    assert text in str(err.value)
    cap, exc = capture_failing(main, stack="dev", config=config)
    assert isinstance(exc, SettingsError)
    assert [r.type for r in cap.resources] == ["pulumi:pulumi:Stack"]


def test_a_workload_granted_nothing_gets_no_login() -> None:
    """Development grants live-trading nothing: configuring its service account declares no role."""
    config = dev_config(
        kubernetes={
            "host": "https://kubernetes.default.svc",
            "serviceAccounts": {
                "backtest": {"namespace": "backtests", "name": "backtest-runner"},
                "live-trading": {"namespace": "paper-trading", "name": "paper-trader"},
            },
        }
    )
    roles = of_type(plan(config), "vault:kubernetes/authBackendRole:AuthBackendRole")
    # Besides the rotation job's own role (test_rotation_executors.py), backtest only.
    assert sorted(r.raw_inputs["roleName"] for r in roles) == ["backtest", "secret-rotation"]
    policies = {r.name for r in of_type(plan(config), "vault:index/policy:Policy")}
    assert "live-trading" not in policies and "backtest" in policies
