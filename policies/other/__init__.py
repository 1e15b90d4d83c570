"""Policies for the other backends' access models: GCP IAM, Azure Key Vault, Vault, Kubernetes RBAC."""
