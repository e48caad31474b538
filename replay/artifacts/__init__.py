"""Artifacts on disk: written atomically, streamed case by case, loaded as typed models."""
