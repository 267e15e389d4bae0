"""Benchmarks: each module prints numbers; results with their command are recorded in docs/benchmarks.md."""
