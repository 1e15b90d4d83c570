"""Pure analysis libraries shared by the CrossGuard policy pack and the offline runner.

Nothing in this package may import ``pulumi`` or ``pulumi_policy``.
"""
