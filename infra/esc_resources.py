"""The stack's Pulumi ESC environments as resources (``pulumiservice:index:Environment``), declared
when the stack's settings have an ``esc`` block: ``pulumi up`` keeps them in step with the catalog
and the placement. The definitions are ``infra/esc.py``'s, the same ``nt-secrets env esc`` prints;
they hold references and OIDC logins, never a value."""

from __future__ import annotations

import pulumi
import pulumi_pulumiservice as pulumiservice

from infra.esc import EscEnvironments, document_text


class EscEnvironmentsComponent(pulumi.ComponentResource):
    """Every layer of one stack's environment (base, readers, deploy), in one organization."""

    def __init__(
        self,
        name: str,
        envs: EscEnvironments,
        organization: str,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("neural-trader:esc:Environments", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        names: dict[str, pulumi.Output[str]] = {}
        base: pulumiservice.Environment | None = None
        for layer, full_name, doc in envs.layers():
            project, env_name = full_name.split("/", 1)
            # The base first: the layers importing it depend on it.
            opts_layer = (
                child if base is None else pulumi.ResourceOptions(parent=self, depends_on=[base])
            )
            resource = pulumiservice.Environment(
                f"{name}-{layer}",
                organization=organization,
                project=project,
                name=env_name,
                yaml=pulumi.StringAsset(document_text(doc)),
                opts=opts_layer,
            )
            if layer == "base":
                base = resource
            names[layer] = pulumi.Output.from_input(f"{organization}/{full_name}")
        self.exports = names
        self.register_outputs({"environments": names})
