"""HashiCorp Vault: policies judged on what Vault resources effectively grant, never on their names.

=========================================  =========================================================
module                                     policies
=========================================  =========================================================
``policy`` (ACL policies, via ``acl``)     ``vault-policy-least-privilege``,
                                           ``vault-policy-no-privilege-escalation``
``auth`` (login roles)                     ``vault-auth-kubernetes-role-bound``,
                                           ``vault-auth-kubernetes-config-secure``,
                                           ``vault-auth-approle-secret-id-bound``,
                                           ``vault-auth-jwt-role-bound``,
                                           ``vault-auth-role-token-ttl``, ``vault-no-root-policy``
``audit``                                  ``vault-audit-no-raw-logging``,
                                           ``vault-audit-hmac-secret-fields``
``transit``                                ``vault-transit-key-not-exportable``,
                                           ``vault-transit-key-deletion-protection``,
                                           ``vault-transit-key-rotation``
``kv``                                     ``vault-kv-check-and-set``, ``vault-kv-version-retention``
``tokens``                                 ``vault-token-no-orphans``,
                                           ``vault-token-role-bounded-policies``
``provider``                               ``vault-provider-no-static-token``
=========================================  =========================================================

``registry`` lists them for the pack. ``acl`` (HCL/JSON policy reading, path patterns) and
``common`` (resource types, durations, booleans) are pure libraries: importing them (and this
package) imports no pulumi.
"""
