"""Benchmark suite (issue 7): ``python -m bench filters|e2e|all|compare``.

Lives outside the installed package on purpose: it drives the service from the outside
(real processes, real HTTP) and is run from a checkout. See the README, "Performance".
"""
