"""Benchmarks: speed and memory of the running system, with results in bench/README.md (never timing asserts)."""
