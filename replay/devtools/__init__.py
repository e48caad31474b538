"""Real parts for the demo, the tests and the bench: embedded Postgres, fixtures, model server.

Shipped inside the package (as structlog ships its testing helpers) so that tests, `scripts/demo`
and `scripts/bench` use exactly the same pieces. They import `replay.models` and nothing else of
the tool.
"""
