"""Text → facts, for reports whose grid did not survive (text dumps, flattened tables, pre-2019)."""
