"""The AWS adapter: component resources that translate the estate into AWS.

One ComponentResource per concern (type tokens ``neural-trader:aws:<Name>``), every child parented
to its component. Every question of policy (which secrets, who may do what, how each is rotated and
valued) is answered by the estate (``infra/estate.py``); the adapter only knows how AWS spells it.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
import pulumi_aws as aws

from infra.access import ROLE_NAMES, Action, Role, RoleName
from infra.backends.aws import documents, quotas
from infra.backends.aws.naming import Naming as Naming
from infra.backends.aws.rotation import SecretRotation
from infra.backends.aws.settings import AwsSettings
from infra.backends.values import SecretValues
from infra.catalog import CatalogError
from infra.estate import Estate, StoredSecret
from policies.contract.vocabulary import (
    AUDIT,
    KIND_HUMAN,
    KIND_WORKLOAD,
    RESTRICTED,
    TAG_CLASSIFICATION,
    TAG_KIND,
    TAG_ROLE,
)


def _secret_policy_json(
    arn: str, *, readers: Sequence[str], managers: Sequence[str], account_id: str
) -> str:
    doc = documents.secret_resource_policy(
        secret_arn=arn, readers=readers, managers=managers, account_id=account_id
    )
    return json.dumps(doc, sort_keys=True)


class EnvironmentKey(pulumi.ComponentResource):
    """The environment's customer-managed KMS key (rotation on) and its alias."""

    key: aws.kms.Key

    def __init__(
        self,
        name: str,
        estate: Estate,
        naming: Naming,
        *,
        rotation: bool = False,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("neural-trader:aws:EnvironmentKey", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, protect=estate.protected)
        admins = [naming.role_arn("admin")]
        trail = naming.trail_arn if estate.audit_trail else None
        self.key = aws.kms.Key(
            f"{name}-cmk",
            description=f"neural-trader {estate.environment.value} secrets",
            enable_key_rotation=True,
            rotation_period_in_days=365,
            deletion_window_in_days=30,
            key_usage="ENCRYPT_DECRYPT",
            customer_master_key_spec="SYMMETRIC_DEFAULT",
            policy=json.dumps(
                documents.key_policy(
                    account_id=naming.settings.account_id,
                    region=naming.settings.region,
                    admin_arns=admins,
                    trail_arn=trail,
                    rotation_log_group_arn=naming.rotation_log_group_arn if rotation else None,
                    rotation_topic_arn=naming.rotation_topic_arn if rotation else None,
                    rotation_alarm_arns=naming.rotation_alarm_arns if rotation else (),
                ),
                sort_keys=True,
            ),
            tags=naming.tags(**{TAG_CLASSIFICATION: RESTRICTED}),
            opts=child,
        )
        aws.kms.Alias(
            f"{name}-alias",
            name=f"alias/{naming.prefix}-secrets",
            target_key_id=self.key.key_id,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"keyArn": self.key.arn})


class SecretStore(pulumi.ComponentResource):
    """One Secrets Manager secret per stored secret of the estate, encrypted with the environment
    key, with a resource policy, and a value only where the infrastructure owns one."""

    secrets: dict[str, aws.secretsmanager.Secret]
    policies: dict[str, aws.secretsmanager.SecretPolicy]

    def __init__(
        self,
        name: str,
        estate: Estate,
        naming: Naming,
        key: aws.kms.Key,
        values: SecretValues,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("neural-trader:aws:SecretStore", name, None, opts)
        account_id = naming.settings.account_id
        self.secrets = {}
        self.policies = {}
        for stored in estate.secrets:
            logical = stored.logical_name
            secret = aws.secretsmanager.Secret(
                logical,
                name=naming.secret_name(stored.entry),
                description=stored.description,
                kms_key_id=key.arn,
                recovery_window_in_days=estate.recovery_window_days,
                force_overwrite_replica_secret=False,
                # The contract's labels: what the rotation Lambda and the policies read.
                tags=naming.tags(**stored.labels()),
                opts=pulumi.ResourceOptions(parent=self, protect=estate.protected),
            )
            self.secrets[stored.name] = secret
            readers = [naming.role_arn(r) for r in stored.roles_with(Action.READ)]
            managers = [naming.role_arn(r) for r in stored.roles_with(Action.MANAGE)]
            if estate.rotates(stored):
                # The rotation Lambda reads and changes exactly the secrets it rotates (never a
                # replica: its home's rotation writes it).
                readers.append(naming.rotation_role_arn)
                managers.append(naming.rotation_role_arn)
            self.policies[stored.name] = aws.secretsmanager.SecretPolicy(
                f"{logical}-policy",
                secret_arn=secret.arn,
                block_public_policy=True,
                policy=secret.arn.apply(
                    functools.partial(
                        _secret_policy_json,
                        readers=readers,
                        managers=managers,
                        account_id=account_id,
                    )
                ),
                opts=pulumi.ResourceOptions(parent=secret),
            )
            value = values.value(stored)
            if value is not None:
                aws.secretsmanager.SecretVersion(
                    f"{logical}-value",
                    secret_id=secret.id,
                    secret_string=value,
                    opts=pulumi.ResourceOptions(parent=secret),
                )
        self.register_outputs({"secretArns": {n: s.arn for n, s in self.secrets.items()}})


class AuditTrail(pulumi.ComponentResource):
    """CloudTrail for the secrets' audit trail: multi-region, log file validation, KMS-encrypted,
    delivered to a private, versioned, TLS-only bucket."""

    trail: aws.cloudtrail.Trail
    bucket: aws.s3.Bucket

    def __init__(
        self,
        name: str,
        estate: Estate,
        naming: Naming,
        key: aws.kms.Key,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("neural-trader:aws:AuditTrail", name, None, opts)
        bucket_name = naming.buckets.audit
        keep = pulumi.ResourceOptions(parent=self, protect=estate.protected)
        self.bucket = aws.s3.Bucket(
            f"{name}-logs",
            bucket=bucket_name,
            force_destroy=False,
            tags=naming.tags(**{TAG_CLASSIFICATION: AUDIT}),
            opts=keep,
        )
        child = pulumi.ResourceOptions(parent=self.bucket)
        aws.s3.BucketPublicAccessBlock(
            f"{name}-logs-private",
            bucket=self.bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child,
        )
        aws.s3.BucketVersioning(
            f"{name}-logs-versioning",
            bucket=self.bucket.id,
            versioning_configuration={"status": "Enabled"},
            opts=child,
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-logs-encryption",
            bucket=self.bucket.id,
            rules=[
                {
                    "apply_server_side_encryption_by_default": {
                        "sse_algorithm": "aws:kms",
                        "kms_master_key_id": key.arn,
                    },
                    "bucket_key_enabled": True,
                }
            ],
            opts=child,
        )
        policy = aws.s3.BucketPolicy(
            f"{name}-logs-policy",
            bucket=self.bucket.id,
            policy=json.dumps(
                documents.audit_bucket_policy(
                    bucket_arn=naming.bucket_arn(bucket_name), trail_arn=naming.trail_arn
                ),
                sort_keys=True,
            ),
            opts=child,
        )
        self.trail = aws.cloudtrail.Trail(
            f"{name}-trail",
            name=naming.trail_name,
            s3_bucket_name=self.bucket.id,
            kms_key_id=key.arn,
            is_multi_region_trail=True,
            include_global_service_events=True,
            enable_log_file_validation=True,
            enable_logging=True,
            tags=naming.tags(**{TAG_CLASSIFICATION: AUDIT}),
            opts=pulumi.ResourceOptions(parent=self, protect=estate.protected, depends_on=[policy]),
        )
        self.register_outputs({"trailArn": self.trail.arn, "bucket": self.bucket.id})


def _bucket_statements(role: RoleName, naming: Naming) -> list[dict[str, Any]]:
    b = naming.buckets
    if role == "backtest":
        data = naming.bucket_arn(b.market_data)
        return [
            {
                "Sid": "ReadMarketData",
                "Effect": "Allow",
                "Action": ["s3:GetObject"],
                "Resource": [f"{data}/*"],
            },
            {
                "Sid": "ListMarketData",
                "Effect": "Allow",
                "Action": ["s3:ListBucket"],
                "Resource": [data],
            },
        ]
    if role == "live-trading":
        artifacts, logs = naming.bucket_arn(b.artifacts), naming.bucket_arn(b.logs)
        return [
            {
                "Sid": "ReadWriteArtifacts",
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:PutObject"],
                "Resource": [f"{artifacts}/*"],
            },
            {
                "Sid": "WriteLogs",
                "Effect": "Allow",
                "Action": ["s3:PutObject"],
                "Resource": [f"{logs}/*"],
            },
            {
                "Sid": "ListBuckets",
                "Effect": "Allow",
                "Action": ["s3:ListBucket"],
                "Resource": [artifacts, logs],
            },
        ]
    return []


class AccessRoles(pulumi.ComponentResource):
    """The six IAM roles of the access model, with trust policies from the stack settings and one
    inline policy each, generated from the estate's grants."""

    roles: dict[RoleName, aws.iam.Role]

    def __init__(
        self,
        name: str,
        estate: Estate,
        naming: Naming,
        key: aws.kms.Key,
        secrets: Mapping[str, aws.secretsmanager.Secret],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("neural-trader:aws:AccessRoles", name, None, opts)
        env = estate.environment
        aws_settings = naming.settings
        self.roles = {}
        stored = [s for s in estate.secrets if s.name in secrets]
        names = [s.name for s in stored]
        revoked = [secrets[s.name].arn for s in estate.revoked]
        _check_fits(estate, naming, stored)
        for role_name in ROLE_NAMES:
            principals = aws_settings.principals.for_role(role_name)
            if not principals:
                pulumi.log.warn(
                    f"role {role_name}: no principals in settings; the role is not created"
                )
                continue
            role = estate.roles[role_name].role
            iam_role = aws.iam.Role(
                role_name,
                name=naming.role_name(role_name),
                description=f"neural-trader {env.value}: {role.description}",
                assume_role_policy=json.dumps(
                    documents.trust_policy(
                        principals, human=role.human, account_id=aws_settings.account_id
                    ),
                    sort_keys=True,
                ),
                max_session_duration=3600,
                tags=naming.tags(
                    **{TAG_ROLE: role_name, TAG_KIND: KIND_HUMAN if role.human else KIND_WORKLOAD}
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.roles[role_name] = iam_role
            grants = [s.grants.get(role_name, frozenset()) for s in stored]
            if not (
                any(grants) or role.describe_all or _bucket_statements(role_name, naming) or revoked
            ):
                # e.g. Developer in production: no secret of its scopes lives there. AWS refuses
                # an empty policy, and the role grants nothing without one.
                pulumi.log.info(f"role {role_name}: nothing to grant in {env.value}; no policy")
                continue
            policy = pulumi.Output.all(key.arn, *[secrets[n].arn for n in names], *revoked).apply(
                functools.partial(
                    self._policy,
                    role,
                    grants,
                    count=len(names),
                    audit_trail=estate.audit_trail,
                    naming=naming,
                )
            )
            aws.iam.RolePolicy(
                f"{role_name}-access",
                role=iam_role.id,
                policy=policy,
                opts=pulumi.ResourceOptions(parent=iam_role),
            )
        self.register_outputs({"roleArns": {n: r.arn for n, r in self.roles.items()}})

    @staticmethod
    def _policy(
        role: Role,
        grants: Sequence[frozenset[Action]],
        values: Sequence[Any],
        *,
        count: int,
        audit_trail: bool,
        naming: Naming,
    ) -> str:
        return json.dumps(
            AccessRoles.document(
                role, grants, values, count=count, audit_trail=audit_trail, naming=naming
            ),
            sort_keys=True,
        )

    @staticmethod
    def document(
        role: Role,
        grants: Sequence[frozenset[Action]],
        values: Sequence[Any],
        *,
        count: int,
        audit_trail: bool,
        naming: Naming,
    ) -> dict[str, Any]:
        """The role's inline policy from the key ARN, every secret's ARN and the revoked ARNs,
        fitted into AWS's inline-policy quota (quotas.fit)."""
        key_arn = str(values[0])
        arns = [str(v) for v in values[1 : 1 + count]]
        revoked = sorted(str(v) for v in values[1 + count :])
        doc = documents.role_policy(
            role,
            {arn: g for arn, g in zip(arns, grants, strict=True) if g},
            key_arn=key_arn,
            region=naming.settings.region,
            bucket_statements=_bucket_statements(role.name, naming),
            trail_arn=naming.trail_arn if audit_trail else None,
            audit_bucket_arn=naming.bucket_arn(naming.buckets.audit) if audit_trail else None,
        )
        if revoked:
            # Nobody reads a revoked value. Admin keeps the rights that get out of the incident:
            # rotating, putting the operator's new value, promoting it (docs/incident-response.md).
            actions = ["secretsmanager:GetSecretValue"]
            if not role.can_manage:
                actions += documents.SECRET_MUTATING
            doc["Statement"].append(
                {
                    "Sid": "DenyRevokedSecrets",
                    "Effect": "Deny",
                    "Action": sorted(set(actions)),
                    "Resource": revoked,
                }
            )
        return quotas.fit_inline_policy(
            doc, arns, context_prefix=naming.secret_directory_arn, role=naming.role_name(role.name)
        )


def _check_fits(estate: Estate, naming: Naming, stored: Sequence[StoredSecret]) -> None:
    """Refuse, before anything registers, an estate whose role policies no compaction fits into
    AWS's quota (a catalog error naming the role): a plan AWS would reject is no plan."""
    values = [
        naming.key_arn_placeholder,
        *[naming.predicted_secret_arn(s.entry) for s in stored],
        *[naming.predicted_secret_arn(s.entry) for s in estate.revoked],
    ]
    problems = []
    for role_name in ROLE_NAMES:
        role = estate.roles[role_name].role
        grants = [s.grants.get(role_name, frozenset()) for s in stored]
        try:
            AccessRoles.document(
                role,
                grants,
                values,
                count=len(stored),
                audit_trail=estate.audit_trail,
                naming=naming,
            )
        except quotas.QuotaError as exc:
            problems.append((role_name, "aws-quota", str(exc)))
    if problems:
        raise CatalogError(problems)


class AwsSecrets(pulumi.ComponentResource):
    """The whole AWS estate of one environment (the backend's top-level component)."""

    exports: dict[str, Any]

    def __init__(
        self,
        name: str,
        estate: Estate,
        settings: AwsSettings,
        values: SecretValues,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("neural-trader:aws:AwsSecrets", name, None, opts)
        naming = Naming(estate.environment, settings)
        provider = aws.Provider(
            f"{name}-provider",
            region=settings.region,
            allowed_account_ids=[settings.account_id],
            default_tags={"tags": {"project": "neural-trader", "managed-by": "pulumi"}},
            opts=pulumi.ResourceOptions(parent=self),
        )
        child = pulumi.ResourceOptions(parent=self, providers={"aws": provider})
        rotatable = bool(estate.rotated)
        self.key = EnvironmentKey("kms", estate, naming, rotation=rotatable, opts=child)
        self.store = SecretStore("secrets", estate, naming, self.key.key, values, opts=child)
        self.access = AccessRoles(
            "access", estate, naming, self.key.key, self.store.secrets, opts=child
        )
        # Revocation (settings.revoked): every role's policy denies the secret (AccessRoles), the
        # secret is tagged revoked=true, and the run says so; see README "Revoking a secret".
        self.revoked = {s.name: self.store.secrets[s.name].arn for s in estate.revoked}
        if self.revoked:
            pulumi.log.warn(
                "revoked secrets (every role is denied; rotate them, then remove them from "
                f"`revoked`): {', '.join(self.revoked)}"
            )
        # The backend's exports, in the uniform shape (infra/backends/__init__.py).
        self.exports = {
            "secrets": {n: s.arn for n, s in self.store.secrets.items()},
            "identities": {n: r.arn for n, r in self.access.roles.items()},
            "keyArn": self.key.key.arn,
            "revokedSecrets": self.revoked,
        }
        self.rotation: SecretRotation | None = None
        if rotatable:
            self.rotation = SecretRotation(
                "rotation",
                estate,
                naming,
                self.key.key,
                self.store.secrets,
                self.store.policies,
                opts=child,
            )
            self.exports["rotationFunctionArn"] = self.rotation.function.arn
            self.exports["rotationTopicArn"] = self.rotation.topic.arn
            self.exports["rotatedSecrets"] = sorted(self.rotation.rotations)
        if estate.audit_trail:
            self.audit = AuditTrail("audit", estate, naming, self.key.key, opts=child)
            self.exports["trailArn"] = self.audit.trail.arn
        self.register_outputs(self.exports)
