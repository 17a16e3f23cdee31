"""``ecomctl scale-test``: Locust load profiles of the shopper mix with a verdict and a report.

Kept import-light: the load generator runs in its own process (``python -m
ecomctl.scaletest.worker``), where Locust's gevent patching must come before anything else.

::

    profiles.py    the profiles (plain data) and how a profile file is read
    thresholds.py  ``[GROUP.]METRIC=VALUE`` thresholds, the checks of a verdict
    dataset.py     the shoppers and the catalogue the run uses, created idempotently via the API
    shoppers.py    the Locust user behaviours (worker process only)
    worker.py      the load generator process: runs a profile, prints one JSON line a second
    series.py      per-second figures and percentiles, shared by the worker and the report
    cpu.py         CPU seconds of each component's process tree, from /proc
    run.py         one run: data, worker, CPU sampling, order check, verdict
    report.py      report.json and the self-contained report.html (inline SVG charts)
"""
