"""The service tests' fixtures (clients, accounts, products), shared with the reliability tests."""

from tests.services.conftest import (  # noqa: F401
    fx_admin,
    fx_api,
    fx_aws_environ,
    fx_new_product,
    fx_new_user,
    fx_user,
)
