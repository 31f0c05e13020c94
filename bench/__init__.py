"""Benchmarks: scripts that start the real server and measure it (see the README's Benchmarks)."""
