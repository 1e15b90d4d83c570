"""The policy pack: the registry of every policy, in one place."""

from __future__ import annotations

from policies import intended, stack
from policies.aws import (
    audit,
    eks_audit_logging,
    eks_secrets_encryption,
    functions,
    iam,
    kms,
    lambda_env_cmk,
    monitoring,
    protection,
    quotas,
    secretsmanager,
    ssm,
    storage,
)
from policies.azure import registry as azure
from policies.common import esc, generated, plaintext, secret_values
from policies.framework import PackPolicy
from policies.gcp import registry as gcp
from policies.kubernetes import registry as kubernetes
from policies.model import PolicyInfo
from policies.vault import registry as vault

PACK_NAME = "neural-trader-secrets"
PACK_DESCRIPTION = "neural-trader secrets: nothing plaintext, nothing over-permissive, everything encrypted, rotated and audited"

ALL: tuple[PackPolicy, ...] = (
    *plaintext.POLICIES,
    *secret_values.POLICIES,
    *generated.POLICIES,
    *esc.POLICIES,
    *iam.POLICIES,
    *secretsmanager.POLICIES,
    *kms.POLICIES,
    *storage.POLICIES,
    *ssm.POLICIES,
    *audit.POLICIES,
    *functions.POLICIES,
    *lambda_env_cmk.POLICIES,
    *eks_secrets_encryption.POLICIES,
    *eks_audit_logging.POLICIES,
    *monitoring.POLICIES,
    *protection.POLICIES,
    *quotas.POLICIES,
    *gcp.POLICIES,
    *azure.POLICIES,
    *vault.POLICIES,
    *kubernetes.POLICIES,
    *stack.POLICIES,
    *intended.POLICIES,
)

assert len({p.spec.id for p in ALL}) == len(ALL), "policy ids must be unique"


def infos() -> dict[str, PolicyInfo]:
    return {p.spec.id: p.spec.info for p in ALL}
