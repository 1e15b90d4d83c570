"""AWS policies, one module per service family."""
