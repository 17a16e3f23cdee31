"""The local runtime: the whole platform on this machine, on real parts, without Docker.

``platform.LocalPlatform`` is the public surface (the CLI and the tests use it); the other
modules each hold one part: ``context`` (one stack's ports, URLs and names), ``spec`` (what a
component is), ``mariadb``, ``kafka``, ``dynamodb``, ``awsapi`` (the stores: install, command,
probe, provisioning; ``awsapi_server`` is the moto process), ``prometheus`` (the metrics server
and its rule files), ``apps`` and ``flink`` (the services,
the file processor and the stream job), ``supervisor`` (supervisord), ``launch`` (a component's
exec with its env file), ``probes`` (health checks), ``aio`` (provisioning coroutines),
``maven`` and ``system`` (jars and Debian packages), ``layout`` (where things live), ``chaos``
(faults on demand, bounded and reversible). The table in
docs/architecture.md says more; tests/unit/test_docs.py keeps both in step with the folder.
"""
