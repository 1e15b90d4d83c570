"""AWS Secrets Manager as the stack invariants see it: the secrets it holds and their rotations.
Who can read them is the access graph's answer (``policies/graph/aws.py``)."""

from __future__ import annotations

from collections.abc import Sequence

from policies.aws.secretsmanager import ROTATION, SECRET_TYPE, rotations_by_secret
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
from policies.stores import StoredSecret, register_extractor

ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"


class AwsExtractor:
    backend = "aws"
    resource_types: tuple[str, ...] = (SECRET_TYPE, ROTATION, ROLE_POLICY)

    def secrets(self, resources: Sequence[Resource]) -> list[StoredSecret]:
        rotated = rotations_by_secret(resources)
        out = []
        for r in resources:
            if r.type != SECRET_TYPE:
                continue
            tags = r.tags()
            name = str(r.get("name") or r.name)
            out.append(
                StoredSecret(
                    backend=self.backend,
                    urn=r.urn,
                    name=name,
                    catalog_name=tags.get(TAG_CATALOG_NAME),
                    environment=tags.get(TAG_ENVIRONMENT),
                    scopes=parse_scopes(tags.get(TAG_ACCESS_SCOPES, "")),
                    rotation_class=tags.get(TAG_ROTATION_CLASS),
                    revoked=tags.get(TAG_REVOKED) == "true",
                    home=tags.get(TAG_HOME_STORE),
                    value_source=tags.get(TAG_VALUE_SOURCE),
                    rotated=r.urn in rotated or name in rotated,
                )
            )
        return out


register_extractor(AwsExtractor())
