"""Benchmarks for callboard: `python -m bench [--smoke] [--only NAME ...]`.

Each figure module exposes `run(scale) -> Figure`; the figure carries its value
beside a baseline measured in the same run, because the machine is shared and
absolute times drift while ratios hold. `bench/README.md` has the latest figures.
"""
