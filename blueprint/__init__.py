"""The platform, described once: what exists (``topology``) and how it is wired (``wiring``).

Imported by the CLI and its local runtime (``ecomctl``), the Pulumi programs (``programs``), the
stream job (``stream``) and the tests. Stdlib only, no I/O, and it imports nothing of ours, so
the Flink virtualenv and every other package import it cheaply.
"""
