"""Benchmarks: `make bench` measures the command path beside raw baselines, in one run."""
