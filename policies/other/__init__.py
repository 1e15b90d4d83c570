"""Policies for the other backends' access models: Azure Key Vault, Vault, Kubernetes RBAC (GCP: policies/gcp/)."""
