"""Shared library of the services: settings, errors, health, metrics, logging, auth, stores, events."""
