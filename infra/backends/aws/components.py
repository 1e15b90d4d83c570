"""The AWS adapter: component resources that turn the catalog, settings and access model into AWS.

One ComponentResource per concern (type tokens ``neural-trader:aws:<Name>``), every child parented
to its component. The adapter asks the catalog and the access model every question of policy; it
only knows how AWS spells the answers.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from infra.access import ROLES, Action, Role
from infra.aws import documents
from infra.aws.naming import Naming as Naming
from infra.aws.rotation import SecretRotation
from infra.catalog import (
    Catalog,
    CatalogEntry,
    HexGenerator,
    PasswordGenerator,
    PostgresUrlGenerator,
    Scope,
)
from infra.settings import PROJECT, ROLE_NAMES, RoleName, StackSettings


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
        settings: StackSettings,
        naming: Naming,
        *,
        rotation: bool = False,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("neural-trader:aws:EnvironmentKey", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, protect=settings.protected)
        admins = [naming.role_arn("admin")]
        trail = naming.trail_arn if settings.audit_trail_enabled else None
        self.key = aws.kms.Key(
            f"{name}-cmk",
            description=f"neural-trader {settings.environment.value} secrets",
            enable_key_rotation=True,
            rotation_period_in_days=365,
            deletion_window_in_days=30,
            key_usage="ENCRYPT_DECRYPT",
            customer_master_key_spec="SYMMETRIC_DEFAULT",
            policy=json.dumps(
                documents.key_policy(
                    account_id=settings.account_id,
                    region=settings.region,
                    admin_arns=admins,
                    trail_arn=trail,
                    rotation_log_group_arn=naming.rotation_log_group_arn if rotation else None,
                    rotation_topic_arn=naming.rotation_topic_arn if rotation else None,
                    rotation_alarm_arns=naming.rotation_alarm_arns if rotation else (),
                ),
                sort_keys=True,
            ),
            tags=naming.tags(classification="restricted"),
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
    """One Secrets Manager secret per stored catalog entry of the environment, encrypted with the
    environment key, with a resource policy, and a value only where the infrastructure owns one."""

    secrets: dict[str, aws.secretsmanager.Secret]
    policies: dict[str, aws.secretsmanager.SecretPolicy]

    def __init__(
        self,
        name: str,
        catalog: Catalog,
        settings: StackSettings,
        naming: Naming,
        key: aws.kms.Key,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("neural-trader:aws:SecretStore", name, None, opts)
        env = settings.environment
        config = pulumi.Config(PROJECT)
        self.secrets = {}
        self.policies = {}
        for entry in catalog.stored_in(env):
            logical = entry.kebab_name
            # What the rotation Lambda reads (contract.py) and the revocation marker (README).
            extra_tags = settings.rotation_tags(entry) if entry.rotatable else {}
            if entry.name in settings.revoked:
                extra_tags["revoked"] = "true"
            secret = aws.secretsmanager.Secret(
                logical,
                name=entry.aws_name(env),
                description=entry.description,
                kms_key_id=key.arn,
                recovery_window_in_days=settings.recovery_window,
                force_overwrite_replica_secret=False,
                tags=naming.tags(
                    service=entry.service,
                    **{
                        "rotation-class": entry.rotation.value if entry.rotation else "none",
                        "rotation-strategy": entry.strategy.value if entry.strategy else "none",
                        "classification": "restricted"
                        if entry.scopes_in(env) & {Scope.LIVE, Scope.ADMIN}
                        else "confidential",
                        "catalog-name": entry.name,
                        "access-scopes": "+".join(sorted(s.value for s in entry.scopes_in(env))),
                        **extra_tags,
                    },
                ),
                opts=pulumi.ResourceOptions(parent=self, protect=settings.protected),
            )
            self.secrets[entry.name] = secret
            readers = [
                naming.role_arn(r) for r in ROLE_NAMES if Action.READ in ROLES[r].grants(entry, env)
            ]
            managers = [
                naming.role_arn(r)
                for r in ROLE_NAMES
                if Action.MANAGE in ROLES[r].grants(entry, env)
            ]
            if entry.rotatable:
                # The rotation Lambda reads and changes exactly the secrets it rotates.
                readers.append(naming.rotation_role_arn)
                managers.append(naming.rotation_role_arn)
            self.policies[entry.name] = aws.secretsmanager.SecretPolicy(
                f"{logical}-policy",
                secret_arn=secret.arn,
                block_public_policy=True,
                policy=secret.arn.apply(
                    functools.partial(
                        _secret_policy_json,
                        readers=readers,
                        managers=managers,
                        account_id=settings.account_id,
                    )
                ),
                opts=pulumi.ResourceOptions(parent=secret),
            )
            value = self._value(entry, settings, config, secret)
            if value is not None:
                aws.secretsmanager.SecretVersion(
                    f"{logical}-value",
                    secret_id=secret.id,
                    secret_string=value,
                    opts=pulumi.ResourceOptions(parent=secret),
                )
        self.register_outputs({"secretArns": {n: s.arn for n, s in self.secrets.items()}})

    @staticmethod
    def _value(
        entry: CatalogEntry,
        settings: StackSettings,
        config: pulumi.Config,
        secret: aws.secretsmanager.Secret,
    ) -> pulumi.Output[str] | None:
        """The value the infrastructure puts in a secret, always as a Pulumi secret; None for
        third-party keys whose value arrives out of band."""
        opts = pulumi.ResourceOptions(parent=secret)
        gen = entry.generator
        logical = entry.kebab_name
        if isinstance(gen, HexGenerator):
            return pulumi.Output.secret(
                random.RandomBytes(f"{logical}-material", length=gen.bytes, opts=opts).hex
            )
        if isinstance(gen, PasswordGenerator):
            pw = random.RandomPassword(
                f"{logical}-material", length=gen.length, special=False, opts=opts
            )
            return pulumi.Output.secret(pw.result)
        if isinstance(gen, PostgresUrlGenerator):
            db = settings.databases[entry.name]
            pw = random.RandomPassword(
                f"{logical}-material", length=gen.length, special=False, opts=opts
            )
            return pulumi.Output.secret(
                pulumi.Output.format(
                    "postgresql://{0}:{1}@{2}:{3}/{4}?sslmode={5}",
                    db.username,
                    pw.result,
                    db.host,
                    db.port,
                    db.database,
                    db.sslmode,
                )
            )
        if entry.name in settings.supplied_values:
            return config.require_secret(entry.name)
        return None


class AuditTrail(pulumi.ComponentResource):
    """CloudTrail for the secrets' audit trail: multi-region, log file validation, KMS-encrypted,
    delivered to a private, versioned, TLS-only bucket."""

    trail: aws.cloudtrail.Trail
    bucket: aws.s3.Bucket

    def __init__(
        self,
        name: str,
        settings: StackSettings,
        naming: Naming,
        key: aws.kms.Key,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("neural-trader:aws:AuditTrail", name, None, opts)
        bucket_name = settings.bucket_names.audit
        keep = pulumi.ResourceOptions(parent=self, protect=settings.protected)
        self.bucket = aws.s3.Bucket(
            f"{name}-logs",
            bucket=bucket_name,
            force_destroy=False,
            tags=naming.tags(classification="audit"),
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
            tags=naming.tags(classification="audit"),
            opts=pulumi.ResourceOptions(
                parent=self, protect=settings.protected, depends_on=[policy]
            ),
        )
        self.register_outputs({"trailArn": self.trail.arn, "bucket": self.bucket.id})


def _bucket_statements(
    role: RoleName, settings: StackSettings, naming: Naming
) -> list[dict[str, Any]]:
    b = settings.bucket_names
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
    inline policy each, generated from the access model."""

    roles: dict[RoleName, aws.iam.Role]

    def __init__(
        self,
        name: str,
        catalog: Catalog,
        settings: StackSettings,
        naming: Naming,
        key: aws.kms.Key,
        secrets: Mapping[str, aws.secretsmanager.Secret],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("neural-trader:aws:AccessRoles", name, None, opts)
        env = settings.environment
        self.roles = {}
        entries = [e for e in catalog.stored_in(env) if e.name in secrets]
        names = [e.name for e in entries]
        revoked = [secrets[n].arn for n in settings.revoked]
        for role_name in ROLE_NAMES:
            principals = settings.principals.for_role(role_name)
            if not principals:
                pulumi.log.warn(
                    f"role {role_name}: no principals in settings; the role is not created"
                )
                continue
            role = ROLES[role_name]
            iam_role = aws.iam.Role(
                role_name,
                name=naming.role_name(role_name),
                description=f"neural-trader {env.value}: {role.description}",
                assume_role_policy=json.dumps(
                    documents.trust_policy(
                        principals, human=role.human, account_id=settings.account_id
                    ),
                    sort_keys=True,
                ),
                max_session_duration=3600,
                tags=naming.tags(role=role_name, kind="human" if role.human else "workload"),
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.roles[role_name] = iam_role
            grants = [role.grants(e, env) for e in entries]
            if not (
                any(grants)
                or role.describe_all
                or _bucket_statements(role_name, settings, naming)
                or revoked
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
                    settings=settings,
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
        settings: StackSettings,
        naming: Naming,
    ) -> str:
        key_arn = str(values[0])
        arns = [str(v) for v in values[1 : 1 + count]]
        revoked = sorted(str(v) for v in values[1 + count :])
        doc = documents.role_policy(
            role,
            {arn: g for arn, g in zip(arns, grants, strict=True) if g},
            key_arn=key_arn,
            region=settings.region,
            bucket_statements=_bucket_statements(role.name, settings, naming),
            trail_arn=naming.trail_arn if settings.audit_trail_enabled else None,
            audit_bucket_arn=naming.bucket_arn(settings.bucket_names.audit)
            if settings.audit_trail_enabled
            else None,
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
        return json.dumps(doc, sort_keys=True)


class AwsSecrets(pulumi.ComponentResource):
    """The whole AWS estate of one environment."""

    def __init__(
        self,
        name: str,
        catalog: Catalog,
        settings: StackSettings,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("neural-trader:aws:AwsSecrets", name, None, opts)
        naming = Naming(settings)
        provider = aws.Provider(
            f"{name}-provider",
            region=settings.region,
            allowed_account_ids=[settings.account_id],
            default_tags={"tags": {"project": "neural-trader", "managed-by": "pulumi"}},
            opts=pulumi.ResourceOptions(parent=self),
        )
        child = pulumi.ResourceOptions(parent=self, providers={"aws": provider})
        rotatable = any(e.rotatable for e in catalog.stored_in(settings.environment))
        self.key = EnvironmentKey("kms", settings, naming, rotation=rotatable, opts=child)
        self.store = SecretStore("secrets", catalog, settings, naming, self.key.key, opts=child)
        self.access = AccessRoles(
            "access", catalog, settings, naming, self.key.key, self.store.secrets, opts=child
        )
        # Revocation (settings.revoked): every role's policy denies the secret (AccessRoles), the
        # secret is tagged revoked=true, and the run says so; see README "Revoking a secret".
        self.revoked = {n: self.store.secrets[n].arn for n in settings.revoked}
        if settings.revoked:
            pulumi.log.warn(
                "revoked secrets (every role is denied; rotate them, then remove them from "
                f"`revoked`): {', '.join(settings.revoked)}"
            )
        outputs: dict[str, Any] = {
            "keyArn": self.key.key.arn,
            "secretArns": {n: s.arn for n, s in self.store.secrets.items()},
            "roleArns": {n: r.arn for n, r in self.access.roles.items()},
            "revokedSecrets": self.revoked,
        }
        self.rotation: SecretRotation | None = None
        if rotatable:
            self.rotation = SecretRotation(
                "rotation",
                catalog,
                settings,
                naming,
                self.key.key,
                self.store.secrets,
                self.store.policies,
                opts=child,
            )
            outputs["rotationFunctionArn"] = self.rotation.function.arn
            outputs["rotationTopicArn"] = self.rotation.topic.arn
        if settings.audit_trail_enabled:
            self.audit = AuditTrail("audit", settings, naming, self.key.key, opts=child)
            outputs["trailArn"] = self.audit.trail.arn
        self.register_outputs(outputs)
