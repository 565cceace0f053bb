import re

import pytest

from accounts.roles import Role
from tests.accounts.factories import UserFactory
from tests.desk.factories import submit


@pytest.fixture
def colleague(agency):
    return UserFactory(email="colleague@example.gov", agency=agency, roles=[Role.PROCUREMENT_OFFICER])


@pytest.fixture
def item(agency):
    """An inquiry to the MCIT ministry, and its private tracking key."""
    return submit(agency=agency)


def tracking_path(body: str) -> str:
    """The tracking link in an e-mail (or a page), without the site's address."""
    found = re.search(r"(/(?:en|ar)/desk/track/DSK-\d{4}-\d{6}/[A-Za-z0-9_-]{40,}/)", body)
    assert found, body
    return found.group(1)
