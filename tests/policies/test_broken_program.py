"""A deliberately broken program fails with exactly the expected violations; the project's own
stacks pass with zero mandatory violations; every resource type the program creates is examined."""

from __future__ import annotations

from pathlib import Path

import pytest

from nt_secrets.capture import capture_program
from nt_secrets.plan import records
from policies.pack import ALL
from policies.runner import run
from tests.fixtures import broken_program
from tests.plans import planned_stack

ROOT = Path(__file__).resolve().parents[2]


def test_broken_program_fails_with_exactly_the_planted_violations() -> None:
    cap = capture_program(broken_program.program, stack="broken", project="neural-trader-secrets")
    result = run(records(cap))
    names = {r.urn: r.name for r in cap.resources}
    got = {(v.policy, names.get(v.urn) if v.urn else None) for v in result.mandatory}
    assert got == broken_program.EXPECTED
    text = "\n".join(v.message for v in result.violations)
    assert broken_program.FAKE_SLACK not in text and broken_program.FAKE_OPENAI not in text


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_project_stacks_have_no_mandatory_violation(stack: str) -> None:
    result = run(records(planned_stack(stack, ROOT)[1]))
    assert [f"{v.policy} {v.urn}: {v.message}" for v in result.mandatory] == []


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_resource_type_is_examined_by_a_specific_policy(stack: str) -> None:
    """The coverage rule: each custom resource type the program creates is named by at least one
    policy (the catch-all plaintext scan does not count)."""
    cap = planned_stack(stack, ROOT)[1]
    types = {r.type for r in cap.resources if r.custom and r.type != "pulumi:pulumi:Stack"}
    examined = {
        t for t in types if any(p.spec.resource_types and p.spec.applies_to(t) for p in ALL)
    }
    assert sorted(types - examined - NOTHING_TO_JUDGE) == []


#: Types with no security-relevant setting of their own; what they hold or grant is judged where
#: it lives (a key ring's keys, a service account's keys and grants, the alert's channel).
NOTHING_TO_JUDGE = frozenset(
    {
        "gcp:kms/keyRing:KeyRing",
        "gcp:projects/serviceIdentity:ServiceIdentity",
        "gcp:serviceaccount/account:Account",
        "gcp:monitoring/alertPolicy:AlertPolicy",
        "gcp:monitoring/notificationChannel:NotificationChannel",
        "azure-native:managedidentity:UserAssignedIdentity",
        "azure-native:monitor:ActionGroup",
        "azure-native:eventgrid:SystemTopic",
        # A plan is capacity; what runs on it is judged on the app (azure-function-app-secure).
        "azure-native:web:AppServicePlan",
        # A blob's access is its container's and its account's (azure-storage-account-secure).
        "azure-native:storage:Blob",
        # An object's access is its bucket's (uniform bucket-level access: no object ACLs).
        "gcp:storage/bucketObject:BucketObject",
    }
)
