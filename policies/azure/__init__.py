"""Azure policies of the pack."""
