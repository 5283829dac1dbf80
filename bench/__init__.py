"""Benchmarks: `python -m bench` runs every bench_*.py module's run(), in name order;
`python -m bench bench_prefix` runs only the ones named. They print figures and assert
nothing."""
