"""Kubernetes policies of the pack."""
