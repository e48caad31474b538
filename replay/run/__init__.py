"""A run: the composition root, its stages, the runner, the pipelines and the judge."""
