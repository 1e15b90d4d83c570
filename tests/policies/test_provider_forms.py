"""Issue 21, class 1: every shape the provider schema allows for a setting is read, in inputs and in
stored outputs, through secret envelopes at any depth. Each case is judged twice: as plan-like
records (envelopes as the engine hands them) and as a stack's state; compliant look-alikes give
no finding, real problems still do."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.policies.forms import KEY_ARN, R, as_records, as_state, cipher, env, findings, urn_of

BUCKET = "aws:s3/bucket:Bucket"
BUCKET_V2 = "aws:s3/bucketV2:BucketV2"
SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
SSE_V2 = (
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2"
)
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
VERSIONING_V2 = "aws:s3/bucketVersioningV2:BucketVersioningV2"

S3_POLICIES = (
    "aws-s3-bucket-kms-by-default",
    "aws-s3-bucket-versioned",
    "aws-s3-kms-encryption",
    "aws-s3-versioning",
)
KMS = "aws-s3-bucket-kms-by-default"
VERSIONED = "aws-s3-bucket-versioned"


@dataclass(frozen=True)
class Case:
    id: str
    resources: tuple[R, ...]
    expected: frozenset[tuple[str, str]]
    policies: tuple[str, ...] = S3_POLICIES
    #: judge as a state only (ciphertext exists only there)
    state_only: bool = False


KMS_DEFAULT = {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": KEY_ARN}

#: pulumi-aws 6 and 7 ``s3.BucketV2``: the inline blocks as lists, pluralised
V2_INLINE = {
    "bucket": "nt-audit",
    "serverSideEncryptionConfigurations": [
        {
            "rules": [
                {"applyServerSideEncryptionByDefaults": [KMS_DEFAULT], "bucketKeyEnabled": True}
            ]
        }
    ],
    "versionings": [{"enabled": True, "mfaDelete": False}],
}
#: pulumi-aws 7 ``s3.Bucket`` (and 6's ``s3.Bucket``): maxItems-1 blocks, singular
SINGULAR_INLINE = {
    "bucket": "nt-audit",
    "serverSideEncryptionConfiguration": {
        "rule": {"applyServerSideEncryptionByDefault": KMS_DEFAULT}
    },
    "versioning": {"enabled": True},
}


def _sse(type_: str, name: str, bucket: str, default: object, **kw: object) -> R:
    return R(
        type_,
        name,
        {"bucket": bucket, "rules": [{"applyServerSideEncryptionByDefault": default}]},
        **kw,
    )  # type: ignore[arg-type]


def _ver(type_: str, name: str, bucket: str, status: object, **kw: object) -> R:
    return R(type_, name, {"bucket": bucket, "versioningConfiguration": {"status": status}}, **kw)  # type: ignore[arg-type]


S3_CASES: list[Case] = [
    # ---- compliant look-alikes: no finding
    Case("v7 BucketV2 inline plural blocks", (R(BUCKET_V2, "b", V2_INLINE),), frozenset()),
    Case("v7 Bucket inline singular blocks", (R(BUCKET, "b", SINGULAR_INLINE),), frozenset()),
    Case(
        "v6 Bucket inline, versioning enabled as the string 'true'",
        (R(BUCKET, "b", {**SINGULAR_INLINE, "versioning": {"enabled": "true"}}),),
        frozenset(),
    ),
    Case(
        "BucketV2 with V2 configuration resources named by bucket name",
        (
            R(BUCKET_V2, "b", {"bucket": "nt-audit"}),
            _sse(SSE_V2, "sse", "nt-audit", KMS_DEFAULT),
            _ver(VERSIONING_V2, "ver", "nt-audit", "Enabled"),
        ),
        frozenset(),
    ),
    Case(
        "v7 Bucket with configurations naming its id output (auto-named)",
        (
            R(
                BUCKET,
                "b",
                {},
                outputs={"id": "b-4f3a2c1", "bucket": "b-4f3a2c1", "arn": "arn:aws:s3:::b-4f3a2c1"},
            ),
            _sse(SSE, "sse", "b-4f3a2c1", KMS_DEFAULT),
            _ver(VERSIONING, "ver", "b-4f3a2c1", "Enabled"),
        ),
        frozenset(),
        state_only=True,
    ),
    Case(
        "configurations linked by property dependencies",
        (
            R(BUCKET_V2, "b", {"bucket": "nt-audit"}),
            _sse(SSE, "sse", "x", KMS_DEFAULT, deps={"bucket": [urn_of(BUCKET_V2, "b")]}),
            _ver(VERSIONING, "ver", "x", "Enabled", deps={"bucket": [urn_of(BUCKET_V2, "b")]}),
        ),
        frozenset(),
    ),
    Case(
        "envelope standing for the whole inline lists",
        (
            R(
                BUCKET_V2,
                "b",
                {
                    "bucket": "nt-audit",
                    "serverSideEncryptionConfigurations": env(
                        V2_INLINE["serverSideEncryptionConfigurations"]
                    ),
                    "versionings": env([{"enabled": True}]),
                },
            ),
        ),
        frozenset(),
    ),
    Case(
        "envelopes at every depth: entry, inner list, leaf",
        (
            R(
                BUCKET_V2,
                "b",
                {
                    "serverSideEncryptionConfigurations": [
                        env(
                            {
                                "rules": env(
                                    [
                                        {
                                            "applyServerSideEncryptionByDefaults": [
                                                env(
                                                    {
                                                        "sseAlgorithm": "aws:kms",
                                                        "kmsMasterKeyId": env(KEY_ARN),
                                                    }
                                                )
                                            ]
                                        }
                                    ]
                                )
                            }
                        )
                    ],
                    "versionings": [env({"enabled": env(True)})],
                },
            ),
        ),
        frozenset(),
    ),
    Case(
        "envelope around a configuration resource's rules and status",
        (
            R(BUCKET_V2, "b", {"bucket": "nt-audit"}),
            R(
                SSE_V2,
                "sse",
                {
                    "bucket": "nt-audit",
                    "rules": env([{"applyServerSideEncryptionByDefault": KMS_DEFAULT}]),
                },
            ),
            R(
                VERSIONING_V2,
                "ver",
                {"bucket": "nt-audit", "versioningConfiguration": env({"status": "Enabled"})},
            ),
        ),
        frozenset(),
    ),
    Case(
        "ciphertext where the blocks are: unreadable, not reported as missing",
        (
            R(
                BUCKET_V2,
                "b",
                {
                    "bucket": "nt-audit",
                    "serverSideEncryptionConfigurations": cipher(),
                    "versionings": cipher(),
                },
            ),
        ),
        frozenset(),
        state_only=True,
    ),
    # ---- real problems: still reported
    Case(
        "BucketV2 inline AES256",
        (
            R(
                BUCKET_V2,
                "b",
                {
                    **V2_INLINE,
                    "serverSideEncryptionConfigurations": [
                        {
                            "rules": [
                                {
                                    "applyServerSideEncryptionByDefaults": [
                                        {"sseAlgorithm": "AES256"}
                                    ]
                                }
                            ]
                        }
                    ],
                },
            ),
        ),
        frozenset({(KMS, "b")}),
    ),
    Case(
        "BucketV2 inline versioning disabled",
        (R(BUCKET_V2, "b", {**V2_INLINE, "versionings": [{"enabled": False}]}),),
        frozenset({(VERSIONED, "b")}),
    ),
    Case(
        "BucketV2 with nothing",
        (R(BUCKET_V2, "b", {"bucket": "nt-audit"}),),
        frozenset({(KMS, "b"), (VERSIONED, "b")}),
    ),
    Case(
        "envelope around AES256 and a disabled versioning",
        (
            R(
                BUCKET_V2,
                "b",
                {
                    "serverSideEncryptionConfigurations": env(
                        [
                            {
                                "rules": [
                                    {
                                        "applyServerSideEncryptionByDefaults": [
                                            {"sseAlgorithm": "AES256"}
                                        ]
                                    }
                                ]
                            }
                        ]
                    ),
                    "versionings": env([{"enabled": False}]),
                },
            ),
        ),
        frozenset({(KMS, "b"), (VERSIONED, "b")}),
    ),
    Case(
        "v7 Bucket singular inline aws:kms without a key",
        (
            R(
                BUCKET,
                "b",
                {
                    **SINGULAR_INLINE,
                    "serverSideEncryptionConfiguration": {
                        "rule": {"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms"}}
                    },
                },
            ),
        ),
        frozenset({(KMS, "b")}),
    ),
    Case(
        "V2 configuration resources: AES256 and Suspended",
        (
            R(BUCKET_V2, "b", {"bucket": "nt-audit"}),
            _sse(SSE_V2, "sse", "nt-audit", {"sseAlgorithm": "AES256"}),
            _ver(VERSIONING_V2, "ver", "nt-audit", "Suspended"),
        ),
        frozenset(
            {
                (KMS, "b"),
                (VERSIONED, "b"),
                ("aws-s3-kms-encryption", "sse"),
                ("aws-s3-versioning", "ver"),
            }
        ),
    ),
    Case(
        "configuration of another bucket does not count",
        (
            R(BUCKET_V2, "b", {"bucket": "nt-audit"}),
            _sse(SSE, "sse", "other-bucket", KMS_DEFAULT),
        ),
        frozenset({(KMS, "b"), (VERSIONED, "b")}),
    ),
]


#: Every case as plan records and as a state, but a case about ciphertext or stored outputs
#: (which exist only in a state) as a state only.
S3_FORMS = [
    pytest.param(case, form, id=f"{case.id}-{form}")
    for case in S3_CASES
    for form in ("records", "state")
    if not (form == "records" and case.state_only)
]


@pytest.mark.parametrize(("case", "form"), S3_FORMS)
def test_s3_forms(case: Case, form: str) -> None:
    records = as_records(case.resources) if form == "records" else as_state(case.resources)
    assert findings(records, case.policies) == case.expected
