"""The Azure actions the Key Vault evaluator (``policies/azure/rbac.py``) asks a role about,
apart so that ``scripts/build_role_tables.py`` derives the built-in-role table from the same
lists: a pattern of a built-in role that matches none of them changes no answer and is not kept.

Pure data: no pulumi, no pulumi_policy.
"""

from __future__ import annotations

from typing import Final

_S: Final = "Microsoft.KeyVault/vaults/secrets/"
GET_SECRET: Final = _S + "getSecret/action"
SET_SECRET: Final = _S + "setSecret/action"
READ_METADATA: Final = _S + "readMetadata/action"
PURGE_SECRET: Final = _S + "purge/action"
MANAGING_DATA: Final = tuple(
    _S + a for a in ("delete", "update/action", "backup/action", "restore/action", "recover/action")
)
SECRET_DATA_ACTIONS: Final = (GET_SECRET, SET_SECRET, READ_METADATA, PURGE_SECRET, *MANAGING_DATA)
#: Data actions on keys and certificates (a workload given one uses more than secrets).
KEY_AND_CERTIFICATE_ACTIONS: Final = (
    "Microsoft.KeyVault/vaults/keys/decrypt/action",
    "Microsoft.KeyVault/vaults/keys/unwrap/action",
    "Microsoft.KeyVault/vaults/keys/sign/action",
    "Microsoft.KeyVault/vaults/keys/create/action",
    "Microsoft.KeyVault/vaults/certificates/read",
    "Microsoft.KeyVault/vaults/certificates/create/action",
)
#: Control-plane actions that let a principal grant itself anything on a vault.
ROLE_ASSIGNMENT_WRITE: Final = "Microsoft.Authorization/roleAssignments/write"
VAULT_WRITE: Final = "Microsoft.KeyVault/vaults/write"
ACCESS_POLICY_WRITE: Final = "Microsoft.KeyVault/vaults/accessPolicies/write"
ESCALATING_ACTIONS: Final = (ROLE_ASSIGNMENT_WRITE, VAULT_WRITE, ACCESS_POLICY_WRITE)
#: ARM read of a secret's metadata (never its value).
ARM_SECRET_READ: Final = "Microsoft.KeyVault/vaults/secrets/read"

PROBE_DATA_ACTIONS: Final = (*SECRET_DATA_ACTIONS, *KEY_AND_CERTIFICATE_ACTIONS)
PROBE_CONTROL_ACTIONS: Final = (*ESCALATING_ACTIONS, ARM_SECRET_READ)
