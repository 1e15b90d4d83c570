"""Policies that examine every resource, whichever provider made it."""
