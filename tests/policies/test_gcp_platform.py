"""The GCP resources around the secrets, each policy with compliant and violating cases: the
bucket holding function code, the functions that handle secrets, custom roles. Fixture values
are obviously fake."""

from __future__ import annotations

from typing import Any

import pytest

from policies.model import ResourceRecord
from policies.pack import ALL
from policies.runner import run
from tests.policies.records import rec

BUCKET = "gcp:storage/bucket:Bucket"
FUNCTION = "gcp:cloudfunctionsv2/function:Function"
ROLE = "gcp:projects/iAMCustomRole:IAMCustomRole"
SA = "nt-prod-secret-rotation@neural-trader-prod.iam.gserviceaccount.com"
FAKE_SLACK = "xoxb-123456789012-123456789012-FAKEfakeFAKEfakeFAKEfake"  # pragma: allowlist secret

#: A Pulumi secret envelope (the engine's and the state's form of a secret value).
SIG = "4dabf18193072939515e22adb298388d"  # pragma: allowlist secret
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"  # pragma: allowlist secret
GOOD_BUCKET: dict[str, Any] = {
    "publicAccessPrevention": "enforced",
    "uniformBucketLevelAccess": True,
    "versioning": {"enabled": True},
}
GOOD_SERVICE: dict[str, Any] = {"ingressSettings": "ALLOW_INTERNAL_ONLY", "serviceAccountEmail": SA}

# (case id, policy id, records, expected number of violations of that policy)
GCP_PLATFORM_CASES: list[tuple[str, str, list[ResourceRecord], int]] = [
    ("private, versioned bucket", "gcp-storage-bucket-private", [rec(BUCKET, GOOD_BUCKET)], 0),
    (
        "bucket with public access prevention inherited",
        "gcp-storage-bucket-private",
        [rec(BUCKET, {**GOOD_BUCKET, "publicAccessPrevention": "inherited"})],
        1,
    ),
    (
        "bucket with object ACLs (uniform access off, as a string)",
        "gcp-storage-bucket-private",
        [rec(BUCKET, {**GOOD_BUCKET, "uniformBucketLevelAccess": "false"})],
        1,
    ),
    (
        "bucket without versioning",
        "gcp-storage-bucket-private",
        [rec(BUCKET, {k: v for k, v in GOOD_BUCKET.items() if k != "versioning"})],
        1,
    ),
    (
        "versioning as a one-item list",
        "gcp-storage-bucket-private",
        [rec(BUCKET, {**GOOD_BUCKET, "versioning": [{"enabled": True}]})],
        0,
    ),
    (
        "bucket settings inside secret envelopes (a state's or the engine's form)",
        "gcp-storage-bucket-private",
        [rec(BUCKET, {k: {SIG: SECRET_SIG, "value": v} for k, v in GOOD_BUCKET.items()})],
        0,
    ),
    (
        "function whose whole serviceConfig is a secret envelope",
        "gcp-function-private",
        [rec(FUNCTION, {"serviceConfig": {SIG: SECRET_SIG, "value": GOOD_SERVICE}})],
        0,
    ),
    (
        "function without a serviceConfig",
        "gcp-function-private",
        [rec(FUNCTION, {"name": "rotation"})],
        1,
    ),
    (
        "internal function as its own account",
        "gcp-function-private",
        [rec(FUNCTION, {"serviceConfig": GOOD_SERVICE})],
        0,
    ),
    (
        "function open to all traffic",
        "gcp-function-private",
        [rec(FUNCTION, {"serviceConfig": {**GOOD_SERVICE, "ingressSettings": "ALLOW_ALL"}})],
        1,
    ),
    (
        "function as the default compute account",
        "gcp-function-private",
        [
            rec(
                FUNCTION,
                {
                    "serviceConfig": {
                        **GOOD_SERVICE,
                        "serviceAccountEmail": "123456789-compute@developer.gserviceaccount.com",
                    }
                },
            )
        ],
        1,
    ),
    (
        "function with a token in a plain environment variable",
        "gcp-function-private",
        [
            rec(
                FUNCTION,
                {
                    "serviceConfig": {
                        **GOOD_SERVICE,
                        "environmentVariables": {"SLACK_TOKEN": FAKE_SLACK},
                    }
                },
            )
        ],
        1,
    ),
    (
        "function naming a secret in an environment variable (a reference)",
        "gcp-function-private",
        [
            rec(
                FUNCTION,
                {
                    "serviceConfig": {
                        **GOOD_SERVICE,
                        "environmentVariables": {"SECRET_ID": "projects/p/secrets/slack"},
                    }
                },
            )
        ],
        0,
    ),
    (
        "custom role naming its permissions",
        "gcp-custom-role-no-wildcard",
        [rec(ROLE, {"permissions": ["secretmanager.versions.add", "secretmanager.secrets.get"]})],
        0,
    ),
    (
        "custom role with a wildcard",
        "gcp-custom-role-no-wildcard",
        [rec(ROLE, {"permissions": ["secretmanager.*"]})],
        1,
    ),
    (
        "custom role that sets the project's IAM policy",
        "gcp-custom-role-no-wildcard",
        [rec(ROLE, {"permissions": ["resourcemanager.projects.setIamPolicy"]})],
        1,
    ),
]


@pytest.mark.parametrize(
    ("case", "policy", "records", "expected"),
    GCP_PLATFORM_CASES,
    ids=[c[0] for c in GCP_PLATFORM_CASES],
)
def test_gcp_platform_policies(
    case: str, policy: str, records: list[ResourceRecord], expected: int
) -> None:
    chosen = [p for p in ALL if p.spec.id == policy]
    found = [v for v in run(records, policies=chosen).violations if v.policy == policy]
    assert len(found) == expected, (case, [v.message for v in found])
    assert all(FAKE_SLACK not in v.message for v in found)
