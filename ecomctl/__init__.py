"""ecomctl: create, update, scale-test and tear down a multi-cloud e-commerce platform."""

__version__ = "0.1.0"
