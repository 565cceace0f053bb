"""The end of a contract: an approver of the agency marks a contract in force completed once its term has
ended, or terminates a contract early with a written reason — through the services and the contract page."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import resolve_url
from django.utils import timezone, translation

from accounts.roles import Role
from audit.models import AuditEvent
from contracts import services
from contracts.models import Contract, ContractMilestone, ContractStatus, MilestoneStatus
from core.exceptions import ActionRefused
from procurement.models.tenders import TenderStatus
from tests.accounts.factories import UserFactory
from tests.contracts.test_contract_views import arabic, url
from tests.contracts.test_contracts import drafted, final_award, frozen
from tests.html_checks import check_page, form_values
from tests.procurement.bid_factories import clock
from tests.procurement.factories import AgencyFactory
from tests.procurement.tender_factories import set_status
from tests.vendors.factories import member

pytestmark = pytest.mark.django_db

REASON = "The contractor abandoned the site for ninety days despite two formal notices."
END_ACTIONS = ("contract.completed", "contract.terminated")


def local_midnight(day: datetime.date) -> datetime.datetime:
    """The first moment of ``day`` where the contracts are run (DISPLAY_TIME_ZONE)."""
    return datetime.datetime.combine(day, datetime.time(0, 0), tzinfo=ZoneInfo(settings.DISPLAY_TIME_ZONE))


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def award():
    award = final_award()
    award.approver = UserFactory(agency=award.tender.agency, roles=[Role.APPROVER], preferred_language="en")
    return award


def in_force(award, *, paid: bool = True) -> Contract:
    """A drafted contract put in force as if both parties had signed it (test_contracts.py signs for real),
    its milestones paid (test_monitoring.py pays them for real) unless ``paid`` is false."""
    contract = drafted(award)
    Contract.objects.filter(pk=contract.pk).update(status=ContractStatus.ACTIVE, activated_at=timezone.now())
    if paid:
        ContractMilestone.objects.filter(contract=contract).update(status=MilestoneStatus.PAID)
    set_status(award.tender, TenderStatus.CONTRACTED)
    contract.refresh_from_db()
    return contract


def strangers(award) -> dict:
    """Everyone who may not end the contract, though some of them may read it."""
    return {
        "the contractor's signatory": award.signatory,
        "an employee of the contractor": member(award.vendor, administrator=False),
        "an officer of the agency": award.officer,
        "an approver of another agency": UserFactory(
            agency=AgencyFactory(), roles=[Role.APPROVER], preferred_language="en"
        ),
        "an approver of the agency who is also a vendor user": UserFactory(
            agency=award.tender.agency, roles=[Role.APPROVER, Role.VENDOR_USER], preferred_language="en"
        ),
    }


def assert_unchanged(contract: Contract, status: str) -> None:
    contract.refresh_from_db()
    assert (contract.status, contract.ended_at, contract.termination_reason) == (status, None, "")
    assert not AuditEvent.objects.filter(action__in=END_ACTIONS).exists()


# Termination ---------------------------------------------------------------------------------------


def test_approver_terminates_a_draft_and_the_award_can_be_contracted_again(award):
    contract = drafted(award)
    moment = timezone.now().replace(microsecond=0)
    with clock(moment):
        services.contract_terminate(actor=award.approver, contract=contract, reason=f"  {REASON}\n")
    contract.refresh_from_db()
    assert contract.status == ContractStatus.TERMINATED
    assert (contract.ended_at, contract.termination_reason) == (moment, REASON)
    event = AuditEvent.objects.get(action="contract.terminated")
    assert event.payload == {"from": "draft", "to": "terminated", "reason": REASON}
    assert event.object_id == str(contract.pk)

    replacement = services.contract_create_from_award(actor=award.officer, tender=award.tender)
    assert replacement.pk != contract.pk and replacement.status == ContractStatus.DRAFT
    assert replacement.recommendation_id == contract.recommendation_id
    # Only one live contract per award: the replacement holds it now.
    with pytest.raises(ActionRefused, match="already has a contract"):
        services.contract_create_from_award(actor=award.officer, tender=award.tender)


def test_terminating_a_contract_awaiting_signatures_frees_the_award(award, django_capture_on_commit_callbacks):
    contract, _version = frozen(award, django_capture_on_commit_callbacks)
    services.contract_terminate(actor=award.approver, contract=contract, reason=REASON)
    contract.refresh_from_db()
    assert contract.status == ContractStatus.TERMINATED
    assert AuditEvent.objects.get(action="contract.terminated").payload["from"] == "awaiting_signatures"
    assert services.contract_create_from_award(actor=award.officer, tender=award.tender).status == "draft"


def test_approver_terminates_a_contract_in_force(award):
    contract = in_force(award)
    services.contract_terminate(actor=award.approver, contract=contract, reason=REASON)
    contract.refresh_from_db()
    assert contract.status == ContractStatus.TERMINATED and contract.ended_at is not None
    assert AuditEvent.objects.get(action="contract.terminated").payload["from"] == "active"


@pytest.mark.parametrize(
    ("reason", "message"),
    [
        ("", "Give the reason"),
        ("   \n  ", "Give the reason"),
        ("  too short  ", "at least 10 characters"),
        ("x" * 4001, "at most 4000 characters"),
    ],
)
def test_termination_needs_a_reason_of_10_to_4000_characters(award, reason, message):
    contract = in_force(award)
    with pytest.raises(ValidationError) as refusal:
        services.contract_terminate(actor=award.approver, contract=contract, reason=reason)
    assert message in " ".join(refusal.value.message_dict["reason"])
    assert_unchanged(contract, ContractStatus.ACTIVE)


def test_a_reason_of_exactly_10_or_4000_characters_is_enough(award):
    contract = drafted(award)
    services.contract_terminate(actor=award.approver, contract=contract, reason=" " + "x" * 10 + " ")
    contract.refresh_from_db()
    assert contract.termination_reason == "x" * 10
    second = services.contract_create_from_award(actor=award.officer, tender=award.tender)
    services.contract_terminate(actor=award.approver, contract=second, reason="y" * 4000)
    second.refresh_from_db()
    assert len(second.termination_reason) == 4000


def test_a_completed_or_terminated_contract_cannot_be_terminated(award):
    contract = in_force(award)
    with clock(local_midnight(contract.end_date)):
        services.contract_complete(actor=award.approver, contract=contract)
    # The state is refused first, whatever the reason says.
    for reason in (REASON, ""):
        with pytest.raises(ActionRefused, match="“Completed”: it cannot be terminated"):
            services.contract_terminate(actor=award.approver, contract=contract, reason=reason)
    contract.refresh_from_db()
    assert contract.status == ContractStatus.COMPLETED and contract.termination_reason == ""
    assert not AuditEvent.objects.filter(action="contract.terminated").exists()


# Completion ----------------------------------------------------------------------------------------


def test_completion_waits_for_the_end_date_in_local_time(award):
    contract = in_force(award)
    assert contract.end_date == datetime.date(2052, 12, 31)
    midnight = local_midnight(contract.end_date)
    with clock(midnight - datetime.timedelta(minutes=1)), pytest.raises(ActionRefused) as refusal:
        services.contract_complete(actor=award.approver, contract=contract)
    assert refusal.value.message == "The contract ends on Dec. 31, 2052: it can be marked completed from that day."
    assert_unchanged(contract, ContractStatus.ACTIVE)

    with clock(midnight):
        services.contract_complete(actor=award.approver, contract=contract)
    contract.refresh_from_db()
    assert (contract.status, contract.ended_at) == (ContractStatus.COMPLETED, midnight)
    event = AuditEvent.objects.get(action="contract.completed")
    assert event.payload == {"from": "active", "to": "completed", "end_date": "2052-12-31"}


def test_only_a_contract_in_force_can_be_completed(award):
    contract = drafted(award)
    with clock(local_midnight(datetime.date(2060, 1, 1))), pytest.raises(ActionRefused) as refusal:
        services.contract_complete(actor=award.approver, contract=contract)
    assert refusal.value.message == "The contract is now “Draft”: it cannot be marked completed."
    assert_unchanged(contract, ContractStatus.DRAFT)
    services.contract_terminate(actor=award.approver, contract=contract, reason=REASON)
    with clock(local_midnight(datetime.date(2060, 1, 1))), pytest.raises(ActionRefused, match="“Terminated”"):
        services.contract_complete(actor=award.approver, contract=contract)


# Who may end a contract ----------------------------------------------------------------------------


def test_only_an_approver_of_the_contracts_agency_may_end_it(award):
    contract = in_force(award)
    after_the_term = local_midnight(datetime.date(2053, 1, 1))
    for who, stranger in strangers(award).items():
        with pytest.raises(PermissionDenied):
            services.contract_terminate(actor=stranger, contract=contract, reason=REASON)
        with clock(after_the_term), pytest.raises(PermissionDenied):
            services.contract_complete(actor=stranger, contract=contract)
        assert not stranger.has_perm("contracts.terminate_contract", contract), who
    assert_unchanged(contract, ContractStatus.ACTIVE)


# The contract page ---------------------------------------------------------------------------------


def test_approver_terminates_through_the_page_and_a_short_reason_is_kept(client, award):
    contract = in_force(award)
    client.force_login(award.approver)
    page = client.get(url("contract_detail", contract.pk))
    html = page.content.decode()
    assert "Terminate the contract" in html and url("contract_terminate", contract.pk) in html
    assert "Mark completed" not in html  # the term has not ended
    assert "The contract ends on Dec. 31, 2052" in html
    for address in (url("contract_detail", contract.pk), arabic(url("contract_detail", contract.pk))):
        report = check_page(client.get(address).content)
        assert (report.unlabelled_controls, report.duplicate_ids, report.dangling_references) == ([], [], [])

    page = client.post(url("contract_terminate", contract.pk), {"terminate-reason": "  Too late "})
    assert page.status_code == 400
    html = page.content.decode()
    assert check_page(html).has_error_summary and "at least 10 characters" in html
    assert form_values(html)["terminate-reason"] == ["  Too late "]  # what was typed
    page = client.post(url("contract_terminate", contract.pk), {"terminate-reason": ""})
    assert page.status_code == 400 and "Give the reason for the termination." in page.content.decode()
    assert_unchanged(contract, ContractStatus.ACTIVE)

    response = client.post(url("contract_terminate", contract.pk), {"terminate-reason": REASON})
    assert response.status_code == 302 and response["Location"] == url("contract_detail", contract.pk)
    contract.refresh_from_db()
    assert contract.status == ContractStatus.TERMINATED and contract.termination_reason == REASON
    # The contractor reads why; nobody is offered the form again.
    for reader in (award.signatory, award.approver):
        client.force_login(reader)
        html = client.get(url("contract_detail", contract.pk)).content.decode()
        assert "Reason for the termination" in html and REASON in html and "Ended" in html
        assert url("contract_terminate", contract.pk) not in html


def test_approver_marks_completed_through_the_page_once_the_term_has_ended(client, award):
    contract = in_force(award)
    client.force_login(award.approver)
    before, after = local_midnight(contract.end_date) - datetime.timedelta(seconds=1), local_midnight(contract.end_date)
    with clock(before):
        response = client.post(url("contract_complete", contract.pk), follow=True)
        assert "The contract ends on Dec. 31, 2052" in response.content.decode()
        assert_unchanged(contract, ContractStatus.ACTIVE)
    with clock(after):
        html = client.get(url("contract_detail", contract.pk)).content.decode()
        assert "Mark completed" in html and "ends on" not in html
        response = client.post(url("contract_complete", contract.pk), follow=True)
    assert "The contract is marked completed." in response.content.decode()
    contract.refresh_from_db()
    assert (contract.status, contract.ended_at) == (ContractStatus.COMPLETED, after)
    html = client.get(url("contract_detail", contract.pk)).content.decode()
    assert "Ended" in html and "Mark completed" not in html and "Terminate the contract" not in html


def test_a_stale_termination_form_shows_why_it_was_refused(client, award):
    contract = in_force(award)
    with clock(local_midnight(contract.end_date)):
        services.contract_complete(actor=award.approver, contract=contract)
    client.force_login(award.approver)
    page = client.post(url("contract_terminate", contract.pk), {"terminate-reason": REASON})
    assert page.status_code == 400
    assert "“Completed”: it cannot be terminated" in page.content.decode()
    contract.refresh_from_db()
    assert contract.status == ContractStatus.COMPLETED


def test_end_actions_from_the_attackers_side(client, award):
    contract = in_force(award)
    complete, terminate = url("contract_complete", contract.pk), url("contract_terminate", contract.pk)
    after_the_term = local_midnight(datetime.date(2053, 1, 1))
    client.force_login(award.approver)
    assert client.get(complete).status_code == 405
    assert client.get(terminate).status_code == 405
    client.logout()
    with translation.override("en"):
        sign_in = resolve_url(settings.LOGIN_URL)
    for address in (complete, terminate):
        response = client.post(address, {"terminate-reason": REASON})
        assert response.status_code == 302 and response["Location"] == f"{sign_in}?next={address}"
    for who, stranger in strangers(award).items():
        client.force_login(stranger)
        with clock(after_the_term):
            assert client.post(complete).status_code == 403, who
            assert client.post(terminate, {"terminate-reason": REASON}).status_code == 403, who
            page = client.get(url("contract_detail", contract.pk))
        if page.status_code == 200:  # those who may read the contract are not offered its end
            html = page.content.decode()
            assert complete not in html and terminate not in html, who
    assert_unchanged(contract, ContractStatus.ACTIVE)


def test_the_tender_page_offers_a_new_contract_once_the_last_one_is_terminated(client, award):
    contract = drafted(award)
    client.force_login(award.officer)
    button = "Create the contract"
    with translation.override("en"):
        address = award.tender.get_absolute_url()
    assert button not in client.get(address).content.decode()
    services.contract_terminate(actor=award.approver, contract=contract, reason=REASON)
    page = client.get(address).content.decode()
    assert button in page and contract.reference in page


def test_completion_waits_for_every_milestone_to_be_paid(award):
    contract = in_force(award, paid=False)
    after_the_end = local_midnight(contract.end_date + datetime.timedelta(days=1))
    with clock(after_the_end), pytest.raises(ActionRefused, match="neither paid nor waived"):
        services.contract_complete(actor=award.approver, contract=contract)
    assert_unchanged(contract, ContractStatus.ACTIVE)
