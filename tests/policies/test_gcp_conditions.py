"""IAM Conditions (CEL) as the GCP evaluator reads them: three-valued, so that what it does not
understand never narrows a grant (``policies/gcp/conditions.py``)."""

from __future__ import annotations

import datetime

import pytest

from policies.gcp.conditions import (
    ANY_CONTAINER,
    ANY_SECRET,
    ANY_SERVICE_ACCOUNT,
    SECRET_KIND,
    Target,
    may_hold,
    reaches,
)

NOW = datetime.datetime(2026, 6, 1, tzinfo=datetime.UTC)
DB = Target(SECRET_KIND, "db-password", "neural-trader-prod")
DEV = Target(SECRET_KIND, "dev-api-key", "neural-trader-prod")
PAST = 'timestamp("2026-01-01T00:00:00Z")'
FUTURE = 'timestamp("2027-01-01T00:00:00Z")'

# expression, target, expected (True: holds for every request on it; False: for none; None:
# cannot tell)
CASES: list[tuple[str | None, Target, bool | None]] = [
    (None, DB, True),
    ("", DB, True),
    ("true", DB, True),
    ("false", DB, False),
    # names: compared from "secrets/" on (projects by number or id)
    ('resource.name == "projects/123/secrets/db-password"', DB, None),
    ('resource.name == "projects/123/secrets/other"', DB, False),
    ('resource.name != "projects/123/secrets/other"', DB, True),
    ('resource.name.startsWith("projects/123/secrets/db-")', DB, None),
    ('resource.name.startsWith("projects/neural-trader-prod/secrets/db-")', DB, True),
    ('resource.name.startsWith("projects/123/secrets/dev-")', DB, False),
    ('resource.name.startsWith("projects/123/secrets/db-password/versions/")', DB, None),
    ('resource.name.startsWith("projects/123/secrets/db-password-old/")', DB, False),
    ('resource.name.startsWith("projects/123/")', DB, None),
    ('resource.name.endsWith("/versions/1")', DB, None),
    ('!resource.name.startsWith("projects/123/secrets/dev-")', DB, True),
    ('!resource.name.startsWith("projects/123/secrets/db-")', DB, None),
    ('!resource.name.startsWith("projects/neural-trader-prod/secrets/db-")', DB, False),
    # a secret of unknown name: a name or prefix narrows, an empty prefix does not
    ('resource.name.startsWith("projects/123/secrets/dev-")', ANY_SECRET, False),
    ('resource.name.startsWith("projects/123/secrets/")', ANY_SECRET, None),
    ('resource.name == "projects/123/secrets/db-password"', ANY_SECRET, False),
    # secret names never match service accounts or projects, and the reverse
    ('resource.name.startsWith("projects/123/secrets/dev-")', ANY_SERVICE_ACCOUNT, False),
    ('resource.name.startsWith("projects/123/secrets/")', ANY_CONTAINER, False),
    ('resource.name.startsWith("projects/-/serviceAccounts/")', DB, False),
    ('resource.name.startsWith("projects/-/serviceAccounts/")', ANY_SERVICE_ACCOUNT, None),
    # types and services
    ('resource.type == "secretmanager.googleapis.com/SecretVersion"', DB, None),
    ('resource.type == "storage.googleapis.com/Bucket"', DB, False),
    ('resource.type != "storage.googleapis.com/Bucket"', DB, True),
    ('resource.type == "iam.googleapis.com/ServiceAccount"', ANY_SERVICE_ACCOUNT, True),
    ('resource.type == "iam.googleapis.com/ServiceAccount"', DB, False),
    ('resource.service == "secretmanager.googleapis.com"', DB, True),
    ('resource.service == "secretmanager.googleapis.com"', ANY_SERVICE_ACCOUNT, False),
    # time: a closed window holds for no request any more; one open or to come may hold
    (f"request.time < {PAST}", DB, False),
    (f"request.time <= {PAST}", DB, False),
    (f"request.time < {FUTURE}", DB, None),
    (f"request.time > {PAST}", DB, True),
    (f"request.time > {FUTURE}", DB, None),
    (f"{PAST} > request.time", DB, False),
    ('request.time < timestamp("not a time")', DB, None),
    ('request.time.getHours("Europe/Berlin") < 18', DB, None),
    # logic: AND of a False is False, OR of a True is True, else unknown
    (f'resource.name.startsWith("projects/1/secrets/db-") && request.time < {PAST}', DB, False),
    (f'resource.name.startsWith("projects/1/secrets/dev-") || request.time > {PAST}', DB, True),
    (
        'resource.name.startsWith("projects/1/secrets/dev-") || resource.matchTag("1/env", "dev")',
        DB,
        None,
    ),
    ('(resource.name.startsWith("projects/1/secrets/dev-"))', DB, False),
    ('!(resource.name.startsWith("projects/1/secrets/dev-") || false)', DB, True),
    ("'single' == 'quoted'", DB, None),
    # tags: an arbitrary secret carries none; whether this one does is not known offline
    ('resource.matchTag("123/env", "dev")', DB, None),
    ('resource.matchTag("123/env", "dev")', ANY_SECRET, False),
    ('resource.matchTagId("tagKeys/1", "tagValues/2")', ANY_SECRET, False),
    ('!resource.hasTagKey("123/env")', ANY_SECRET, True),
    ('resource.matchTag("123/env", "dev")', ANY_SERVICE_ACCOUNT, None),
    # not understood: never narrows
    ('api.getAttribute("iam.googleapis.com/modifiedGrantsByRole", []).hasOnly([])', DB, None),
    ("resource.name.startsWith(", DB, None),
    ('resource.name.startsWith("projects/1/secrets/dev-") garbage', DB, None),
    ("1 + 1", DB, None),
]


@pytest.mark.parametrize(("expression", "target", "expected"), CASES)
def test_what_a_condition_lets_through(
    expression: str | None, target: Target, expected: bool | None
) -> None:
    assert may_hold(expression, target, NOW) is expected
    assert reaches(expression, target, NOW) is (expected is not False)


def test_the_clock_is_now_by_default() -> None:
    assert may_hold('request.time < timestamp("2001-01-01T00:00:00Z")', DB) is False
    assert may_hold('request.time < timestamp("2999-01-01T00:00:00Z")', DB) is None
