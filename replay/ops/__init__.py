"""Operations over time: job signals, canary decisions, nightly runs, run comparison."""
