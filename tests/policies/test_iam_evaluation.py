"""policies.lib.iam's request evaluation (the access graph's): AWS's documented condition semantics,
ARN matching and principals, case by case."""

from __future__ import annotations

import pytest

from policies.lib.iam import (
    Condition,
    RequestContext,
    Verdict,
    arn_like,
    condition_holds,
    principal_named,
    statements,
)

CTX = RequestContext(
    {"aws:resourcetag/team": ("data",), "aws:principalarn": ("arn:aws:iam::1:role/a",)},
    complete=("aws:resourcetag/",),
    services=frozenset({"secretsmanager"}),
)


@pytest.mark.parametrize(
    ("operator", "key", "values", "want"),
    [
        ("StringEquals", "aws:resourcetag/team", ("data",), True),
        ("StringEquals", "aws:resourcetag/team", ("web",), False),
        ("StringNotEquals", "aws:resourcetag/team", ("web",), True),
        ("StringLike", "aws:resourcetag/team", ("d*",), True),
        ("StringEqualsIgnoreCase", "aws:resourcetag/team", ("DATA",), True),
        # a tag the secret does not carry: absent from the request
        ("StringEquals", "aws:resourcetag/owner", ("x",), False),
        ("StringEqualsIfExists", "aws:resourcetag/owner", ("x",), True),
        ("StringNotEquals", "aws:resourcetag/owner", ("x",), True),
        ("ForAllValues:StringEquals", "aws:resourcetag/owner", ("x",), True),
        ("ForAnyValue:StringEquals", "aws:resourcetag/owner", ("x",), False),
        ("Null", "aws:resourcetag/owner", ("true",), True),
        ("Null", "aws:resourcetag/team", ("true",), False),
        ("ArnNotEquals", "aws:principalarn", ("arn:aws:iam::1:role/a",), False),
        ("ArnLike", "aws:principalarn", ("arn:aws:iam::1:role/*",), True),
        ("StringEquals", "aws:resourcetag/team", ("${aws:resourcetag/team}",), True),
        # what depends on the request alone
        ("IpAddress", "aws:sourceip", ("10.0.0.0/8",), None),
        ("StringEquals", "aws:principaltag/team", ("data",), None),
        # a key of another service: absent from a Secrets Manager request
        ("StringEquals", "s3:prefix", ("x",), False),
    ],
)
def test_condition_holds(operator: str, key: str, values: tuple[str, ...], want: Verdict) -> None:
    assert condition_holds(Condition(operator, key, values), CTX) is want


@pytest.mark.parametrize(
    ("pattern", "arn", "want"),
    [
        ("*", "arn:aws:secretsmanager:r:1:secret:a-AbCdEf", True),
        (
            "arn:aws:secretsmanager:*:1:secret:a-??????",
            "arn:aws:secretsmanager:r:1:secret:a-AbCdEf",
            True,
        ),
        (
            "arn:aws:secretsmanager:*:1:secret:a",
            "arn:aws:secretsmanager:r:1:secret:a-AbCdEf",
            False,
        ),
        (
            "arn:aws:secretsmanager:*:2:secret:*",
            "arn:aws:secretsmanager:r:1:secret:a-AbCdEf",
            False,
        ),
        ("arn:aws:*", "arn:aws:secretsmanager:r:1:secret:a-AbCdEf", True),
        ("arn:aws:secretsmanager:r*", "arn:aws:secretsmanager:r:1:secret:a-AbCdEf", True),
    ],
)
def test_arn_like(pattern: str, arn: str, want: bool) -> None:
    assert arn_like(pattern, arn) is want


def test_principal_named() -> None:
    doc = {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::1:role/a"},
                "Action": "s3:GetObject",
                "Resource": "*",
            },
            {
                "Effect": "Allow",
                "Principal": {"AWS": "1"},
                "Action": "s3:GetObject",
                "Resource": "*",
            },
            {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"},
            {
                "Effect": "Allow",
                "NotPrincipal": {"AWS": "arn:aws:iam::1:role/b"},
                "Action": "s3:GetObject",
                "Resource": "*",
            },
        ]
    }
    parsed = statements(doc, "resource")
    assert parsed is not None
    got = [principal_named(st, "arn:aws:iam::1:role/a", "1") for st, _ in parsed]
    assert got == ["principal", "account", "anyone", None]
    assert principal_named(parsed[0][0], "arn:aws:iam::1:role/b", "1") is None
