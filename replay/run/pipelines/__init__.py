"""Pipelines: what turns a case into a new draft (`openai`, a Python callable, an HTTP endpoint)."""
