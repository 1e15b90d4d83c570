"""CrossGuard entry point: `pulumi preview --policy-pack policies`. Only builds the pack; the
PolicyPack constructor starts the analyzer server and never returns, so the policies live in
importable modules (policies/pack.py) that the offline runner uses too."""

from pulumi_policy import EnforcementLevel, PolicyPack

from policies.pack import ALL, PACK_DESCRIPTION, PACK_NAME

PolicyPack(
    name=PACK_NAME,
    description=PACK_DESCRIPTION,
    enforcement_level=EnforcementLevel.ADVISORY,
    policies=[p.policy for p in ALL],
)
