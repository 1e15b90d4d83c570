"""Google Cloud Secret Manager as the stack invariants see it: secrets and who can read them.

A secret is a ``gcp:secretmanager/secret:Secret`` (or ``RegionalSecret``), its contract labels
spelled the GCP way (``policies/contract/gcp_labels.py``: lower-cased catalog name, ``_`` between
scopes), read back here. An identity is an IAM member exactly as granted (``serviceAccount:...``,
``group:...``, ``principal://...``). GCP members carry no label saying which access-model role
they stand for, and the extractor does not guess one from a name: the separation invariant judges
every member for reading both paper and live secrets, as it judges every identity that is not an
Admin. No member of the project's stacks does (production stores only live and admin secrets, the
other environments only test and paper ones); a stack where one must (an Admin group spanning
environments in one project) names it in the policy's ``allowedRoleNames`` (globs on the member).

Who can read what comes from the pack's offline IAM evaluator (``policies/gcp/iam.py``): every
grant form, above the secret too, and impersonation of service accounts.
"""

from __future__ import annotations

from collections.abc import Sequence

from policies.contract.gcp_labels import contract_labels
from policies.contract.vocabulary import (
    TAG_ACCESS_SCOPES,
    TAG_CATALOG_NAME,
    TAG_ENVIRONMENT,
    TAG_HOME_STORE,
    TAG_REVOKED,
    TAG_ROTATION_CLASS,
    TAG_VALUE_SOURCE,
    parse_scopes,
)
from policies.framework import Resource
from policies.gcp.common import IAM_TYPES, SECRET_TYPES, labels
from policies.stores import StoredSecret, register_extractor


class GcpExtractor:
    backend = "gcp"
    resource_types: tuple[str, ...] = (*SECRET_TYPES, *IAM_TYPES)

    def secrets(self, resources: Sequence[Resource]) -> list[StoredSecret]:
        out = []
        for r in resources:
            if r.type not in SECRET_TYPES:
                continue
            contract = contract_labels(labels(r))
            rotation = r.get("rotation")
            period = rotation.get("rotationPeriod") if isinstance(rotation, dict) else None
            project, secret_id = r.get("project"), r.get("secretId") or r.name
            stored = (r.outputs or {}).get("name")
            if isinstance(project, str) and project:
                name = f"projects/{project}/secrets/{secret_id}"
            elif isinstance(stored, str) and stored.startswith("projects/"):
                name = stored  # the provider's default project, as the state records it
            else:  # the provider's default project, not known from the resource
                name = f"projects/-/secrets/{secret_id}"
            out.append(
                StoredSecret(
                    backend=self.backend,
                    urn=r.urn,
                    name=name,
                    catalog_name=contract.get(TAG_CATALOG_NAME),
                    environment=contract.get(TAG_ENVIRONMENT),
                    scopes=parse_scopes(contract.get(TAG_ACCESS_SCOPES, "")),
                    rotation_class=contract.get(TAG_ROTATION_CLASS),
                    revoked=contract.get(TAG_REVOKED) == "true",
                    home=contract.get(TAG_HOME_STORE),
                    value_source=contract.get(TAG_VALUE_SOURCE),
                    rotated=isinstance(period, str) and bool(period),
                )
            )
        return out


register_extractor(GcpExtractor())
