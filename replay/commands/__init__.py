"""The commands of `replay`, one module per group; `replay.cli` registers them in help order."""
