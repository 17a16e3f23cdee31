"""Fixtures of the security tests: the service tests' accounts and clients, the programs' mock runs."""

from tests.programs.conftest import fx_dev, fx_dev_cfg  # noqa: F401
from tests.services.conftest import (  # noqa: F401
    fx_admin,
    fx_api,
    fx_new_product,
    fx_new_user,
    fx_user,
)
