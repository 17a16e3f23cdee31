"""The local runtime: the whole platform on this machine, on real parts, without Docker.

``platform.LocalPlatform`` is the public surface (the CLI and the tests use it); the other
modules each hold one part: ``layout`` (where things live), ``secrets``, ``maven`` (jars),
``components`` (what runs: one spec per process), ``supervisor`` (supervisord),
``provision`` (databases, topics, tables), ``probes`` (health checks).
"""
