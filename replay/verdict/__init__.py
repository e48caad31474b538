"""Deciding what changed: text comparison, checks, the verdict policy, the gate and statistics."""
