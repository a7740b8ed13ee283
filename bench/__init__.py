"""Benchmarks: `python -m bench.run` writes BENCHMARKS.md."""
