"""Secret rotation on AWS: one rotation Lambda per environment, wired to every rotated secret.

``SecretRotation`` (type ``neural-trader:aws:SecretRotation``) wires two sub-components and the
per-secret schedule:

- ``RotationNotifications``: the failure path, a KMS-encrypted SNS topic with its policy, e-mail
  subscriptions from ``notifications.emails`` and, only when the stack config carries
  ``SLACK_WEBHOOK_URL`` as a secret, an HTTPS subscription to it;
- ``RotationFunction``: the Lambda (code built from ``infra/rotation`` by ``build_package`` at
  program time), its least-privilege execution role and policy, a KMS-encrypted log group, and
  alarms on the function's Errors and Throttles that notify the topic;
- per rotated secret of the estate, an invoke permission and an
  ``aws.secretsmanager.SecretRotation`` (period: the estate's rotation plan), and the deploy-time
  revocation notice.

The sub-components were split out of ``SecretRotation``; their children carry an alias to their
former parent, so existing stacks see a move, not a replacement.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import pulumi
import pulumi_aws as aws

from infra import buildcache
from infra.backends import replica_map
from infra.backends.aws import documents, quotas
from infra.backends.aws.naming import ROTATION_ALARM_METRICS, Naming
from infra.catalog import CatalogError
from infra.estate import Estate
from infra.rotation import contract, package
from infra.rotation.notice import revoked_event
from infra.rotation.replicas import ENV_REPLICAS
from infra.settings import PROJECT
from policies.contract.vocabulary import (
    CONFIDENTIAL,
    KIND_WORKLOAD,
    TAG_CLASSIFICATION,
    TAG_KIND,
    TAG_ROLE,
)

#: The catalog entry whose value, if the stack supplies it, subscribes Slack to the topic.
SLACK_WEBHOOK: Final = "SLACK_WEBHOOK_URL"
FUNCTION_TIMEOUT_S: Final = 60
FUNCTION_MEMORY_MB: Final = 256
#: Rotations are rare; a small cap keeps a misbehaving schedule from exhausting the account's
#: concurrency (and the databases' connection slots). Throttles raise an alarm.
RESERVED_CONCURRENCY: Final = 5


@functools.cache
def lambda_archive(build_dir: Path | None = None) -> Path:
    """Build the rotation zip once per process, and only when its inputs changed (a digest stamp
    beside it; compressing costs ~0.3 s of every plan otherwise). The build is deterministic, so
    Pulumi's archive hash only changes with the code; each build goes to a private temporary
    directory and is moved into place atomically, so concurrent plans (pytest-xdist, two shells)
    never see a half-written zip."""
    return buildcache.package_archive(
        Path(package.__file__),
        package.ZIP_NAME,
        package.package_entries,
        package.build_package,
        build_dir,
    )[0]


def _logical(address: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", address.lower()).strip("-")


def _moved(parent: pulumi.Resource, former: pulumi.Resource) -> pulumi.ResourceOptions:
    """Options of a child that moved from ``former`` (the SecretRotation component) to ``parent``."""
    return pulumi.ResourceOptions(parent=parent, aliases=[pulumi.Alias(parent=former)])


class RotationNotifications(pulumi.ComponentResource):
    """Where rotation failures and "rotation due" notices go: a KMS-encrypted SNS topic, its
    policy, and the e-mail (and optional Slack) subscriptions."""

    topic: aws.sns.Topic

    def __init__(
        self,
        name: str,
        estate: Estate,
        naming: Naming,
        key: aws.kms.Key,
        *,
        prefix: str,
        former_parent: pulumi.Resource,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("neural-trader:aws:RotationNotifications", name, None, opts)
        self.topic = aws.sns.Topic(
            f"{prefix}-topic",
            name=naming.rotation_name,
            display_name=f"neural-trader {estate.environment.value} secret rotation",
            kms_master_key_id=key.arn,
            tags=naming.tags(**{TAG_CLASSIFICATION: CONFIDENTIAL}),
            opts=_moved(self, former_parent),
        )
        topic_opts = pulumi.ResourceOptions(parent=self.topic)
        aws.sns.TopicPolicy(
            f"{prefix}-topic-policy",
            arn=self.topic.arn,
            policy=json.dumps(
                documents.rotation_topic_policy(
                    topic_arn=naming.rotation_topic_arn,
                    alarm_arns=naming.rotation_alarm_arns,
                    account_id=naming.settings.account_id,
                ),
                sort_keys=True,
            ),
            opts=topic_opts,
        )
        for address in estate.notification_emails:
            aws.sns.TopicSubscription(
                f"{prefix}-email-{_logical(address)}",
                topic=self.topic.arn,
                protocol="email",
                endpoint=address,
                opts=topic_opts,
            )
        if SLACK_WEBHOOK in estate.supplied:
            aws.sns.TopicSubscription(
                f"{prefix}-slack",
                topic=self.topic.arn,
                protocol="https",
                endpoint=pulumi.Config(PROJECT).require_secret(SLACK_WEBHOOK),
                opts=topic_opts,
            )
        self.register_outputs({"topicArn": self.topic.arn})


def _variables(
    estate: Estate, secrets: Mapping[str, aws.secretsmanager.Secret], topic_arn: Any
) -> dict[str, Any]:
    """The Lambda's environment: the rotation topic, and the replica map when a secret AWS is
    home to has replicas (every replica written before AWSCURRENT moves; docs/rotation.md §9)."""
    variables: dict[str, Any] = {contract.ENV_ROTATION_TOPIC_ARN: topic_arn}
    if any(estate.replica_addresses.get(s.name) for s in estate.rotated):
        ids = {s.name: secrets[s.name].arn for s in estate.rotated if s.name in secrets}
        variables[ENV_REPLICAS] = replica_map(estate, ids)
    return variables


class RotationFunction(pulumi.ComponentResource):
    """The rotation Lambda: its code, least-privilege execution role and policy, KMS-encrypted
    log group, and the alarms on its Errors and Throttles that notify ``topic``."""

    function: aws.lambda_.Function
    policy: aws.iam.RolePolicy

    def __init__(
        self,
        name: str,
        estate: Estate,
        naming: Naming,
        key: aws.kms.Key,
        secrets: Mapping[str, aws.secretsmanager.Secret],
        topic: aws.sns.Topic,
        *,
        prefix: str,
        former_parent: pulumi.Resource,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("neural-trader:aws:RotationFunction", name, None, opts)
        env = estate.environment
        account_id = naming.settings.account_id
        rotated = [s for s in estate.rotated if s.name in secrets]
        # A plan AWS would reject is no plan: refuse before registering anything of the function.
        predicted = [
            naming.key_arn_placeholder,
            *(naming.predicted_secret_arn(s.entry) for s in rotated),
        ]
        try:
            self.document(predicted, masters=estate.master_secrets(), naming=naming)
        except quotas.QuotaError as exc:
            raise CatalogError([("rotation", "aws-quota", str(exc))]) from None
        log_group = aws.cloudwatch.LogGroup(
            f"{prefix}-logs",
            name=naming.rotation_log_group,
            retention_in_days=365 if estate.is_production else 30,
            kms_key_id=key.arn,
            tags=naming.tags(**{TAG_CLASSIFICATION: CONFIDENTIAL}),
            opts=_moved(self, former_parent).merge(
                pulumi.ResourceOptions(protect=estate.protected)
            ),
        )
        role = aws.iam.Role(
            f"{prefix}-role",
            name=naming.rotation_name,
            description=f"neural-trader {env.value}: secret rotation Lambda",
            assume_role_policy=json.dumps(
                documents.rotation_trust_policy(account_id=account_id), sort_keys=True
            ),
            max_session_duration=3600,
            tags=naming.tags(**{TAG_ROLE: "secret-rotation", TAG_KIND: KIND_WORKLOAD}),
            opts=_moved(self, former_parent),
        )
        self.policy = aws.iam.RolePolicy(
            f"{prefix}-access",
            role=role.id,
            policy=pulumi.Output.all(key.arn, *[secrets[s.name].arn for s in rotated]).apply(
                functools.partial(self._policy, masters=estate.master_secrets(), naming=naming)
            ),
            opts=pulumi.ResourceOptions(parent=role),
        )
        self.function = aws.lambda_.Function(
            f"{prefix}-function",
            name=naming.rotation_name,
            description=f"neural-trader {env.value}: Secrets Manager rotation (docs/rotation.md)",
            role=role.arn,
            runtime=contract.LAMBDA_RUNTIME,
            handler=contract.LAMBDA_HANDLER,
            code=pulumi.FileArchive(str(lambda_archive())),
            timeout=FUNCTION_TIMEOUT_S,
            memory_size=FUNCTION_MEMORY_MB,
            reserved_concurrent_executions=RESERVED_CONCURRENCY,
            tracing_config={"mode": "Active"},
            logging_config={"log_format": "JSON", "log_group": log_group.name},
            environment={"variables": _variables(estate, secrets, topic.arn)},
            # the variables (topic and replica ARNs) under the environment's own key, not aws/lambda
            kms_key_arn=key.arn,
            tags=naming.tags(**{TAG_ROLE: "secret-rotation"}),
            opts=_moved(self, former_parent).merge(
                pulumi.ResourceOptions(depends_on=[self.policy, log_group])
            ),
        )
        for metric in ROTATION_ALARM_METRICS:
            aws.cloudwatch.MetricAlarm(
                f"{prefix}-{metric.lower()}",
                name=naming.rotation_alarm_name(metric),
                alarm_description=(
                    f"Secret rotation Lambda {metric.lower()} in {env.value}: a rotation failed or "
                    "a third-party key is due (docs/rotation.md)"
                ),
                namespace="AWS/Lambda",
                metric_name=metric,
                dimensions={"FunctionName": self.function.name},
                statistic="Sum",
                period=300,
                evaluation_periods=1,
                threshold=0,
                comparison_operator="GreaterThanThreshold",
                treat_missing_data="notBreaching",
                alarm_actions=[topic.arn],
                ok_actions=[topic.arn],
                tags=naming.tags(),
                opts=_moved(self, former_parent),
            )
        self.register_outputs({"functionArn": self.function.arn})

    @staticmethod
    def _policy(values: Sequence[Any], *, masters: Sequence[str], naming: Naming) -> str:
        return json.dumps(
            RotationFunction.document(values, masters=masters, naming=naming), sort_keys=True
        )

    @staticmethod
    def document(
        values: Sequence[Any], *, masters: Sequence[str], naming: Naming
    ) -> dict[str, Any]:
        """The execution role's policy from the key ARN and the rotated secrets' ARNs, fitted
        into AWS's inline-policy quota (quotas.fit)."""
        arns = [str(v) for v in values[1:]]
        doc = documents.rotation_lambda_policy(
            secret_arns=arns,
            master_secret_arns=masters,
            key_arn=str(values[0]),
            region=naming.settings.region,
            topic_arn=naming.rotation_topic_arn,
            log_group_arn=naming.rotation_log_group_arn,
        )
        return quotas.fit_inline_policy(
            doc, arns, context_prefix=naming.secret_directory_arn, role=naming.rotation_name
        )


class SecretRotation(pulumi.ComponentResource):
    """Rotation of every rotated secret of the estate by one Lambda."""

    function: aws.lambda_.Function
    topic: aws.sns.Topic
    rotations: dict[str, aws.secretsmanager.SecretRotation]

    def __init__(
        self,
        name: str,
        estate: Estate,
        naming: Naming,
        key: aws.kms.Key,
        secrets: Mapping[str, aws.secretsmanager.Secret],
        secret_policies: Mapping[str, pulumi.Resource],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("neural-trader:aws:SecretRotation", name, None, opts)
        # Children keep the logical names they had under this component (f"{name}-...").
        notifications = RotationNotifications(
            f"{name}-notifications",
            estate,
            naming,
            key,
            prefix=name,
            former_parent=self,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.topic = notifications.topic
        runner = RotationFunction(
            f"{name}-lambda",
            estate,
            naming,
            key,
            secrets,
            self.topic,
            prefix=name,
            former_parent=self,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.function = runner.function

        # ---- invoke permissions and one rotation schedule per secret ------------------------
        # One permission per secret (source_arn = that secret) while the function's policy fits
        # AWS's quota; beyond it one per service directory (".../<service>/*"), and beyond that
        # one for the environment's directory (".../neural-trader/<env>/*").
        rotated = [s for s in estate.rotated if s.name in secrets and s.rotation is not None]
        services = {s.service for s in rotated}

        def fits(statements: int) -> bool:
            return statements * quotas.PERMISSION_STATEMENT <= quotas.FUNCTION_POLICY

        scope = "secret" if fits(len(rotated)) else "service" if fits(len(services)) else "env"

        def invoke_permission(label: str, source: pulumi.Input[str]) -> pulumi.Resource:
            """Secrets Manager may invoke the function for ``source`` (a secret or a directory)."""
            return aws.lambda_.Permission(
                f"{label}-invoke",
                statement_id=f"SecretsManager-{label}",
                action="lambda:InvokeFunction",
                function=self.function.name,
                principal="secretsmanager.amazonaws.com",
                source_account=naming.settings.account_id,
                source_arn=source,
                opts=pulumi.ResourceOptions(parent=self.function),
            )

        shared: dict[str, pulumi.Resource] = {}
        self.rotations = {}
        for stored in rotated:
            assert stored.rotation is not None
            logical = stored.logical_name
            secret = secrets[stored.name]
            if scope == "secret":
                permission: pulumi.Resource = invoke_permission(logical, secret.arn)
            else:
                group = stored.service if scope == "service" else estate.environment.value
                if group not in shared:
                    source = (
                        quotas.directory(naming.secret_arn(stored.entry)) + "*"
                        if scope == "service"
                        else naming.secret_directory_arn
                    )
                    shared[group] = invoke_permission(group, source)
                permission = shared[group]
            depends: list[pulumi.Resource] = [permission, runner.policy]
            if stored.name in secret_policies:
                depends.append(secret_policies[stored.name])
            self.rotations[stored.name] = aws.secretsmanager.SecretRotation(
                f"{logical}-rotation",
                secret_id=secret.id,
                rotation_lambda_arn=self.function.arn,
                rotation_rules={"automatically_after_days": stored.rotation.period_days},
                # First rotation on schedule: an immediate one would page for every third-party
                # key at the first deploy. AWS still probes the function with testSecret.
                rotate_immediately=False,
                opts=pulumi.ResourceOptions(parent=self, depends_on=depends),
            )
        # ---- deploy-time notice of revocations ---------------------------------------------------
        # A deployment cannot publish to SNS, but it can invoke the function, which can: whenever
        # the revoked list changes, `pulumi up` invokes it with a notice naming the secrets.
        revoked = [s.name for s in estate.revoked]
        if revoked:
            aws.lambda_.Invocation(
                "revocation-notice",
                function_name=self.function.name,
                input=revoked_event(estate.environment.value, revoked),
                triggers={"revoked": ",".join(sorted(revoked))},
                opts=pulumi.ResourceOptions(parent=self.function, depends_on=[runner.policy]),
            )
        self.register_outputs(
            {
                "functionArn": self.function.arn,
                "topicArn": self.topic.arn,
                "rotated": sorted(self.rotations),
            }
        )
