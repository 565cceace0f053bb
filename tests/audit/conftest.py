import pytest

from accounts.roles import Role
from contracts import services
from tests.accounts.factories import UserFactory
from tests.contracts.test_amendments import PASSWORD
from tests.contracts.test_contracts import final_award, frozen


@pytest.fixture
def signed(django_capture_on_commit_callbacks):
    """A contract signed by both parties (modules using it also import the contract CA's and media's fixtures
    from tests.contracts.test_amendments)."""
    award = final_award()
    contract, _version = frozen(award, django_capture_on_commit_callbacks)
    officer = UserFactory(agency=award.tender.agency, roles=[Role.PROCUREMENT_OFFICER])
    services.signer_key_issue(user=award.signatory, password=PASSWORD)
    services.signer_key_issue(user=officer, password=PASSWORD)
    services.contract_sign(actor=award.signatory, contract=contract, password=PASSWORD)
    services.contract_sign(actor=officer, contract=contract, password=PASSWORD)
    contract.refresh_from_db()
    return contract
