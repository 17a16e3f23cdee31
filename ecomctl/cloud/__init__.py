"""The Pulumi boundary: the Automation API driver, offline preview, policies and cost.

Nothing here imports ``pulumi`` at module level: ``import ecomctl.cli`` stays fast, and the
offline preview works without the Pulumi CLI.
"""
