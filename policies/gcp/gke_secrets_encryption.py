"""``gcp-gke-secrets-encryption`` (CIS GKE 5.3.1; checkov has no check): a GKE cluster encrypts
Kubernetes Secrets at the application layer with a Cloud KMS key (``databaseEncryption`` with
state ``ENCRYPTED`` and a ``keyName``). Without it etcd holds Secrets under Google's default
encryption only, readable to anyone who can read etcd's storage.

The block is read as an object or a list, envelopes at any depth; unknown values are not judged.
"""

from __future__ import annotations

from collections.abc import Callable

from policies.framework import PackPolicy, Resource, Spec, resource_policy
from policies.lib.shapes import OPAQUE, declare, pick, reveal
from policies.model import UNKNOWN, Category, Severity

CLUSTER = "gcp:container/cluster:Cluster"
_BLOCK = declare((CLUSTER,), "databaseEncryption")
declare((CLUSTER,), "databaseEncryption.state")
declare((CLUSTER,), "databaseEncryption.keyName")

SPEC = Spec(
    id="gcp-gke-secrets-encryption",
    description="GKE clusters encrypt Kubernetes Secrets at the application layer with a Cloud "
    "KMS key (databaseEncryption state ENCRYPTED)",
    severity=Severity.HIGH,
    category=Category.ENCRYPTION,
    remediation="Set databaseEncryption = {state: 'ENCRYPTED', keyName: <crypto key in the "
    "cluster's region>} and grant the GKE service agent cloudkms.cryptoKeyEncrypterDecrypter "
    "on that key.",
    resource_types=(CLUSTER,),
)


def _check(r: Resource, report: Callable[[str], None]) -> None:
    blocks = pick(r.props, _BLOCK)
    if UNKNOWN in blocks:
        return
    states = [reveal(v) for b in blocks for v in pick(b, "state")]
    keys = [reveal(v) for b in blocks for v in pick(b, "keyName")]
    if any(v == UNKNOWN or v in OPAQUE for v in (*states, *keys)):
        return
    if "ENCRYPTED" not in states:
        report(
            "databaseEncryption is not ENCRYPTED: Secrets in etcd have no application-layer encryption"
        )
    elif not any(isinstance(k, str) and k for k in keys):
        report("databaseEncryption names no keyName")


POLICIES: list[PackPolicy] = [resource_policy(SPEC, _check)]
