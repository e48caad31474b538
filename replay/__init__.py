"""draft-replay: replay historical AI draft jobs and tell whether a change made drafts worse."""

__version__ = "0.1.0"
