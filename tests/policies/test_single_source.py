"""One secret, one home, one value: the stack policies on copies of a secret in several stores.

``nt-stack-single-source`` judges copies labelled by the program (home-store, value-source) and
the random material their values are made from (the plan's property dependencies);
``nt-stack-secret-sprawl`` (advisory) judges any estate, labelled or not, by the secret's name.
Each case names the stores it spans; the records are the providers' own resource types.
"""

from __future__ import annotations

from typing import Any

import pytest

from policies.model import ResourceRecord
from policies.pack import ALL
from policies.runner import run
from tests.policies.records import rec

AWS_SECRET = "aws:secretsmanager/secret:Secret"  # pragma: allowlist secret
AWS_VERSION = "aws:secretsmanager/secretVersion:SecretVersion"  # pragma: allowlist secret
VAULT_SECRET = "vault:kv/secretV2:SecretV2"  # pragma: allowlist secret
GCP_SECRET = "gcp:secretmanager/secret:Secret"  # pragma: allowlist secret
AZURE_SECRET = "azure-native:keyvault:Secret"  # pragma: allowlist secret
RANDOM = "random:index/randomBytes:RandomBytes"
#: The random materials a plan declares (their URNs are what the copies' values depend on).
MATERIALS = [rec(RANDOM, {"length": 32}, name="jwt-secret-material")]
MATERIAL = MATERIALS[0].urn
OTHER = rec(RANDOM, {"length": 32}, name="jwt-secret-material-aws")
OTHER_MATERIAL = OTHER.urn

SINGLE = "nt-stack-single-source"
SPRAWL = "nt-stack-secret-sprawl"


def labels(
    home: str | None, source: str | None = "generated", name: str = "JWT_SECRET"
) -> dict[str, str]:
    out = {"environment": "production", "catalog-name": name, "access-scopes": "live"}
    if home is not None:
        out["home-store"] = home
    if source is not None:
        out["value-source"] = source
    return out


def aws(
    home: str | None,
    source: str | None = "generated",
    material: str | None = MATERIAL,
    name: str = "neural-trader/production/auth/jwt-secret",
) -> list[ResourceRecord]:
    """A Secrets Manager copy; its value (a version under it) made from ``material``."""
    secret = rec(AWS_SECRET, {"name": name, "tags": labels(home, source)}, name="jwt-aws")
    out = [secret]
    if material is not None:
        out.append(
            rec(
                AWS_VERSION,
                {"secretId": "arn", "secretString": "[secret]"},
                name="jwt-aws-value",
                parent=secret.urn,
                property_dependencies={"secretString": (material,)},
            )
        )
    return out


def vault(
    home: str | None,
    source: str | None = "generated",
    material: str | None = MATERIAL,
    path: str = "auth/jwt-secret",
) -> list[ResourceRecord]:
    """A KV v2 copy whose write-only data is made from ``material``."""
    deps = {"dataJsonWo": (material,)} if material is not None else {}
    return [
        rec(
            VAULT_SECRET,
            {
                "mount": "neural-trader-production",
                "name": path,
                "customMetadata": {"data": labels(home, source)},
            },
            name="jwt-vault",
            property_dependencies=deps,
        )
    ]


def gcp(
    home: str | None, source: str | None = "external", secret_id: str = "jwt-secret"
) -> list[ResourceRecord]:
    gcp_labels = {k: v.lower() for k, v in labels(home, source).items()}
    return [
        rec(
            GCP_SECRET,
            {"secretId": secret_id, "project": "p", "labels": gcp_labels},
            name="jwt-gcp",
        )
    ]


def azure(
    home: str | None, source: str | None = "external", name: str = "jwt-secret"
) -> list[ResourceRecord]:
    return [
        rec(
            AZURE_SECRET,
            {"secretName": name, "vaultName": "kv", "tags": labels(home, source)},
            name="jwt-azure",
        )
    ]


# (case id, policy id, records, expected number of violations of that policy)
SINGLE_SOURCE_CASES: list[tuple[str, str, list[ResourceRecord], int]] = [
    ("one copy, in its home (vault)", SINGLE, vault("vault"), 0),
    (
        "home in vault, replica in aws, one material",
        SINGLE,
        [*MATERIALS, *vault("vault"), *aws("vault")],
        0,
    ),
    (
        "copies in aws and vault, no home labels (written independently)",
        SINGLE,
        [*vault(None), *aws(None)],
        1,
    ),
    (
        "copies in vault and aws each calling itself home",
        SINGLE,
        [*vault("vault"), *aws("aws")],
        1,
    ),
    (
        "replica in aws of a vault home that holds no copy: no rotation owner",
        SINGLE,
        aws("vault"),
        1,
    ),
    (
        "home in vault, replica in aws, each with its own material",
        SINGLE,
        [*MATERIALS, OTHER, *vault("vault"), *aws("vault", material=OTHER_MATERIAL)],
        1,
    ),
    (
        "home generated, replica said to be put out of band",
        SINGLE,
        [*vault("vault"), *aws("vault", source="external", material=None)],
        1,
    ),
    (
        "third-party key homed in azure with a gcp replica",
        SINGLE,
        [*azure("azure"), *gcp("azure")],
        0,
    ),
    (
        "third-party key in gcp and azure with no relation",
        SINGLE,
        [*azure(None), *gcp(None)],
        1,
    ),
    # Sprawl: what any reviewer would flag on any estate, labelled or not.
    ("one store only", SPRAWL, [*vault(None)], 0),
    ("declared replica (same home label)", SPRAWL, [*vault("vault"), *aws("vault")], 0),
    (
        "the same name in Vault and Secrets Manager, unrelated (a foreign estate)",
        SPRAWL,
        [
            rec(VAULT_SECRET, {"mount": "kv", "name": "payments/stripe-key"}, name="v"),
            rec(AWS_SECRET, {"name": "prod/payments/stripe_key"}, name="a"),
        ],
        1,
    ),
    (
        "different secrets in two stores",
        SPRAWL,
        [
            rec(VAULT_SECRET, {"mount": "kv", "name": "payments/stripe-key"}, name="v"),
            rec(AWS_SECRET, {"name": "prod/payments/webhook-secret"}, name="a"),
        ],
        0,
    ),
    (
        "one catalog secret in three stores without a relation",
        SPRAWL,
        [*vault(None), *gcp(None), *azure(None)],
        1,
    ),
]


def _run(records: list[ResourceRecord]) -> Any:
    return run(records, policies=[p for p in ALL if p.spec.id in (SINGLE, SPRAWL)])


@pytest.mark.parametrize(
    ("case", "policy", "records", "expected"),
    SINGLE_SOURCE_CASES,
    ids=[c[0] for c in SINGLE_SOURCE_CASES],
)
def test_single_source_and_sprawl(
    case: str, policy: str, records: list[ResourceRecord], expected: int
) -> None:
    found = [v for v in _run(records).violations if v.policy == policy]
    assert len(found) == expected, (case, [v.message for v in found])


def test_sprawl_is_advisory_and_names_every_copy() -> None:
    records = [
        rec(VAULT_SECRET, {"mount": "kv", "name": "payments/stripe-key"}, name="v"),
        rec(AWS_SECRET, {"name": "prod/payments/stripe_key"}, name="a"),
    ]
    (found,) = [v for v in _run(records).violations if v.policy == SPRAWL]
    assert found.enforcement.value == "advisory"
    assert "aws: prod/payments/stripe_key" in found.message
    assert "vault: kv/data/payments/stripe-key" in found.message
