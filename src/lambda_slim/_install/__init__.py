"""Resolving and installing: the lock, pip and uv, the per-distribution cache, bytecode."""
