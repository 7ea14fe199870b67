"""Speed and memory benchmarks, each a ratio or delta against a baseline measured in the same run.

Run them all with ``.venv/bin/python -m benchmarks`` (see docs/performance.md).
"""
