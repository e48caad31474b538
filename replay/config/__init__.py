"""Configuration: flags, environment and `replay.toml`, merged and validated into frozen models."""
