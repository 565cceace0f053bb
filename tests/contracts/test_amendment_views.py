"""The amendment pages: an officer drafts a change order and its changes, another person approves it, both
parties sign it through the contract's signing page, and the page then shows it in force with its verified
signatures — bad input is explained and kept, strangers are turned away, and every page speaks Arabic too."""

from __future__ import annotations

import datetime
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation

from accounts.roles import Role
from contracts import amendments, services
from contracts.models import (
    AmendmentStatus,
    ContractAmendment,
    ContractSignature,
    ContractStatus,
    ContractVersion,
    RenderStatus,
)
from tests.accounts.factories import UserFactory
from tests.contracts.test_contracts import PASSPHRASE, PASSWORD, final_award, frozen
from tests.html_checks import check_page, form_values
from tests.vendors.factories import member

pytestmark = pytest.mark.django_db

REASON = "The regulator added two districts to the service area."
NEW_TITLE_EN = "Extension to the new districts"
NEW_TITLE_AR = "التوسع إلى الأحياء الجديدة"
#: The pages of one amendment that only take a POST.
POST_ONLY = (
    "amendment_edit",
    "amendment_milestone",
    "amendment_kpi",
    "amendment_remove_change",
    "amendment_submit",
    "amendment_approve",
    "amendment_return",
    "amendment_withdraw",
)


# Fixtures (after tests/contracts/test_amendments.py) --------------------------------------------------


@pytest.fixture(scope="module")
def authority_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("contract-ca")


@pytest.fixture(autouse=True)
def _ca_and_media(settings, tmp_path, authority_dir):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.CONTRACT_CA_CERT_FILE = authority_dir / "contract-ca.pem"
    settings.CONTRACT_CA_KEY_PASSPHRASE = PASSPHRASE
    settings.CONTRACT_TSA_URL = ""
    settings.CONTRACT_AMENDMENT_MAX_PERCENT = 25
    if not settings.CONTRACT_CA_CERT_FILE.exists():
        call_command("contracts_ca_init", stdout=StringIO())


@pytest.fixture
def active(django_capture_on_commit_callbacks):
    """An active contract (value 1,250,000; start 2027-01-01; one KPI; one milestone), signed by both parties;
    the signatory and the agency's signer keep their signing keys for the amendment."""
    award = final_award()
    contract, version = frozen(award, django_capture_on_commit_callbacks)
    award.agency_signer = UserFactory(
        agency=award.tender.agency, roles=[Role.PROCUREMENT_OFFICER], full_name="Omar Khalil", preferred_language="en"
    )
    award.approver = UserFactory(agency=award.tender.agency, roles=[Role.APPROVER], full_name="Huda Saleh")
    services.signer_key_issue(user=award.signatory, password=PASSWORD)
    services.signer_key_issue(user=award.agency_signer, password=PASSWORD)
    services.contract_sign(actor=award.signatory, contract=contract, password=PASSWORD)
    signature = services.contract_sign(actor=award.agency_signer, contract=contract, password=PASSWORD)
    contract.refresh_from_db()
    assert contract.status == ContractStatus.ACTIVE
    award.contract, award.version, award.contract_sha256 = contract, version, signature.sha256
    return award


# Helpers ------------------------------------------------------------------------------------------------


def url(name: str, *args) -> str:
    """The English address (whatever language an earlier Arabic request left active)."""
    with translation.override("en"):
        return reverse(f"contracts:{name}", args=args)


def arabic(address: str) -> str:
    return address.replace("/en/", "/ar/", 1)


def login_url() -> str:
    with translation.override("en"):
        return reverse(django_settings.LOGIN_URL)


def html_of(response) -> str:
    return response.content.decode()


def milestone_post(**changes) -> dict:
    data = {
        "milestone-milestone": "",
        "milestone-title_en": NEW_TITLE_EN,
        "milestone-title_ar": NEW_TITLE_AR,
        "milestone-due_date": "2031-06-30",
        "milestone-payment_amount": "150000.00",
    }
    data.update(changes)
    return data


def drafted_via_pages(client, user, contract, **changes) -> ContractAmendment:
    client.force_login(user)
    data = {"reason": REASON, "new_value": "1400000.00", "new_end_date": "2053-12-31", **changes}
    response = client.post(url("amendment_create", contract.pk), data)
    assert response.status_code == 302, html_of(response)
    amendment = ContractAmendment.objects.get(contract=contract, status=AmendmentStatus.DRAFT)
    assert response["Location"] == url("amendment_detail", contract.pk, amendment.number)
    return amendment


def pending(a) -> ContractAmendment:
    """A draft with one new milestone, sent for approval (through the services)."""
    amendment = amendments.amendment_create(actor=a.officer, contract=a.contract, reason=REASON, new_value="1400000.00")
    amendments.amendment_change_milestone(
        actor=a.officer,
        amendment=amendment,
        title_en=NEW_TITLE_EN,
        title_ar=NEW_TITLE_AR,
        due_date=datetime.date(2031, 6, 30),
        payment_amount="150000",
    )
    amendments.amendment_submit(actor=a.officer, amendment=amendment)
    amendment.refresh_from_db()
    return amendment


def approved(a, django_capture_on_commit_callbacks) -> ContractAmendment:
    amendment = pending(a)
    with django_capture_on_commit_callbacks(execute=True):
        amendments.amendment_approve(actor=a.approver, amendment=amendment)
    amendment.refresh_from_db()
    return amendment


def has_version(amendment: ContractAmendment) -> bool:
    return ContractVersion.objects.filter(amendment=amendment).exists()


def action_urls(contract, number: int) -> list[str]:
    return [url(name, contract.pk, number) for name in POST_ONLY]


def assert_accessible(response, language: str) -> None:
    assert response.status_code == 200, (response.status_code, response.request["PATH_INFO"])
    report = check_page(response.content)
    assert (report.lang, report.dir) == ((language, "rtl") if language == "ar" else (language, "ltr"))
    assert report.main_count == 1
    assert report.unlabelled_controls == [] and report.duplicate_ids == [] and report.dangling_references == []


# 1. The whole path through the pages -----------------------------------------------------------------------


def test_an_amendment_goes_from_draft_to_in_force_through_the_pages(client, active, django_capture_on_commit_callbacks):
    a = active
    contract = a.contract
    kpi = contract.kpis.get()

    # The officer opens the new-amendment page: it states the limit.
    client.force_login(a.officer)
    page = client.get(url("amendment_create", contract.pk))
    assert page.status_code == 200
    html = html_of(page)
    assert "at most 25% of 1250000.00" in html and "Draft the amendment" in html

    amendment = drafted_via_pages(client, a.officer, contract)
    assert amendment.number == 1 and amendment.drafted_by == a.officer
    assert amendment.new_value == Decimal("1400000.00") and amendment.new_end_date == datetime.date(2053, 12, 31)
    detail = url("amendment_detail", contract.pk, amendment.number)
    html = html_of(client.get(detail))
    assert "The amendment was drafted." in html and "Send for approval" in html

    # A new milestone and a changed indicator, each through its own form.
    response = client.post(url("amendment_milestone", contract.pk, amendment.number), milestone_post())
    assert response.status_code == 302 and response["Location"] == detail + "#changes"
    kpi_post = {"kpi-kpi": str(kpi.pk), "kpi-target": "99.9", "kpi-frequency": "monthly"}
    response = client.post(url("amendment_kpi", contract.pk, amendment.number), kpi_post)
    assert response.status_code == 302 and response["Location"] == detail + "#changes"
    amendment.refresh_from_db()
    assert [c["title_en"] for c in amendment.changes["milestones"]] == [NEW_TITLE_EN]
    assert [(c["id"], c["target"], c["frequency"]) for c in amendment.changes["kpis"]] == [(kpi.pk, "99.9", "monthly")]
    html = html_of(client.get(detail))
    assert NEW_TITLE_EN in html and "99.9" in html and "Before it can be sent for approval" not in html

    # Sent for approval: the drafter now only reads.
    response = client.post(url("amendment_submit", contract.pk, amendment.number), follow=True)
    assert response.redirect_chain == [(detail, 302)]
    html = html_of(response)
    assert "The amendment was sent for approval." in html
    assert "An approver other than you decides on this amendment." in html and "Approve the amendment" not in html
    amendment.refresh_from_db()
    assert amendment.status == AmendmentStatus.PENDING_APPROVAL

    # Another person, an approver of the same agency, approves; the PDF is rendered at once.
    client.force_login(a.approver)
    html = html_of(client.get(detail))
    assert "Approve the amendment" in html and "Send it back to its drafter" in html
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("amendment_approve", contract.pk, amendment.number))
    assert response.status_code == 302 and response["Location"] == detail
    amendment.refresh_from_db()
    assert amendment.status == AmendmentStatus.AWAITING_SIGNATURES and amendment.approved_by == a.approver
    version = amendment.version
    assert version.status == RenderStatus.RENDERED and version.number == 2
    html = html_of(client.get(detail))
    pdf_link = url("version_pdf", contract.pk, version.number)
    assert pdf_link in html and version.pdf_sha256 in html and 'http-equiv="refresh"' not in html
    assert "Sign the amendment" not in html  # the approver does not sign for the agency
    download = client.get(pdf_link)
    assert download.status_code == 200 and download["Content-Type"] == "application/pdf"

    # The vendor's signatory is offered the signature, and signs on the contract's signing page.
    client.force_login(a.signatory)
    html = html_of(client.get(detail))
    assert "Sign the amendment" in html and url("contract_sign", contract.pk) in html and pdf_link in html
    assert client.get(url("contract_sign", contract.pk)).status_code == 200
    response = client.post(url("contract_sign", contract.pk), {"password": PASSWORD})
    assert response.status_code == 302, html_of(response)
    assert response["Location"] == detail + "#pdf"
    amendment.refresh_from_db()
    assert amendment.status == AmendmentStatus.AWAITING_SIGNATURES
    html = html_of(client.get(detail))
    assert a.signatory.email in html and "Verification of the latest signed PDF" in html
    assert "Withdraw the amendment" not in html  # a party has signed: it can no longer be withdrawn

    # Then the agency's officer countersigns: the amendment is in force.
    client.force_login(a.agency_signer)
    assert "Sign the amendment" in html_of(client.get(detail))
    response = client.post(url("contract_sign", contract.pk), {"password": PASSWORD})
    assert response.status_code == 302, html_of(response)
    assert response["Location"] == detail + "#pdf"
    amendment.refresh_from_db()
    contract.refresh_from_db()
    assert amendment.status == AmendmentStatus.IN_FORCE
    assert contract.value == Decimal("1400000.00") and contract.end_date == datetime.date(2053, 12, 31)
    assert contract.milestones.count() == 2

    for reader in (a.agency_signer, a.officer, a.signatory, a.approver):
        client.force_login(reader)
        html = html_of(client.get(detail))
        assert '<span class="status status-in_force">In force</span>' in html
        assert "In force since" in html and "Sign the amendment" not in html
        assert "Every signature is valid" in html and "<strong>NO</strong>" not in html
        assert a.signatory.email in html and a.agency_signer.email in html
        assert "Withdraw the amendment" not in html and "Send for approval" not in html
    signatures = ContractSignature.objects.filter(version=version).order_by("signed_at", "id")
    assert [s.party for s in signatures] == ["vendor", "agency"]
    assert url("signature_pdf", contract.pk, signatures.last().pk) in html


# 2. Bad input is explained and kept --------------------------------------------------------------------------


def test_bad_input_on_the_new_amendment_page_is_explained_and_kept(client, active):
    a = active
    contract = a.contract
    client.force_login(a.officer)
    cases = [
        ({"reason": "Too short", "new_value": "1300000.00", "new_end_date": "2053-12-31"}, "at least 10 characters"),
        ({"reason": REASON, "new_value": "1600000.00", "new_end_date": ""}, "between 937500.00 and 1562500.00"),
        ({"reason": REASON, "new_value": "", "new_end_date": "2026-06-30"}, "must come after the start date"),
        ({"reason": REASON, "new_value": "lots", "new_end_date": ""}, "Enter a number."),
    ]
    for data, explanation in cases:
        for address in (url("amendment_create", contract.pk), arabic(url("amendment_create", contract.pk))):
            page = client.post(address, data)
            assert page.status_code == 400, (data, address)
            report = check_page(page.content)
            assert report.has_error_summary and report.error_summary_links, data
            assert report.unlabelled_controls == [] and report.duplicate_ids == []
            values = form_values(page.content)
            assert values["reason"] == [data["reason"]]
            assert values["new_value"] == [data["new_value"]] and values["new_end_date"] == [data["new_end_date"]]
            if address.startswith("/en/"):
                assert explanation in html_of(page), data
            else:
                assert report.dir == "rtl"
    # The range stated for a value beyond the limit names the limit too.
    page = client.post(url("amendment_create", contract.pk), {"reason": REASON, "new_value": "1600000.00"})
    assert "at most 25%" in html_of(page)
    assert ContractAmendment.objects.count() == 0


def test_bad_input_on_the_amendment_page_is_explained_and_kept(client, active):
    a = active
    contract = a.contract
    amendment = drafted_via_pages(client, a.officer, contract)
    amendments.amendment_change_milestone(
        actor=a.officer,
        amendment=amendment,
        title_en=NEW_TITLE_EN,
        title_ar=NEW_TITLE_AR,
        due_date=datetime.date(2031, 6, 30),
        payment_amount="150000",
    )
    amendment.refresh_from_db()
    before = (amendment.reason, amendment.new_value, amendment.new_end_date, amendment.changes)

    def unchanged():
        amendment.refresh_from_db()
        assert (amendment.reason, amendment.new_value, amendment.new_end_date, amendment.changes) == before
        assert ContractAmendment.objects.count() == 1 and amendment.status == AmendmentStatus.DRAFT

    edit = url("amendment_edit", contract.pk, amendment.number)
    for data, explanation in (
        ({"reason": "Too short", "new_value": "1300000.00", "new_end_date": ""}, "at least 10 characters"),
        ({"reason": REASON, "new_value": "999.00", "new_end_date": ""}, "between 937500.00 and 1562500.00"),
        ({"reason": REASON, "new_value": "", "new_end_date": "2026-06-30"}, "must come after the start date"),
    ):
        page = client.post(edit, data)
        assert page.status_code == 400, data
        html = html_of(page)
        assert explanation in html, data
        report = check_page(page.content)
        assert report.has_error_summary and report.duplicate_ids == [] and report.dangling_references == []
        values = form_values(page.content)
        assert values["reason"] == [data["reason"]] and values["new_value"] == [data["new_value"]]
        assert values["new_end_date"] == [data["new_end_date"]]
        assert "<details open>" in html
        unchanged()

    # A new milestone needs its titles in both languages.
    page = client.post(
        url("amendment_milestone", contract.pk, amendment.number),
        milestone_post(**{"milestone-title_en": "", "milestone-title_ar": "", "milestone-due_date": "2032-01-31"}),
    )
    assert page.status_code == 400
    html = html_of(page)
    assert "A new milestone needs its title in both languages." in html
    assert check_page(page.content).has_error_summary
    values = form_values(page.content)
    assert values["milestone-due_date"] == ["2032-01-31"] and values["milestone-payment_amount"] == ["150000.00"]
    unchanged()

    # A milestone of another contract, or an indicator with no target: refused, typed values kept.
    page = client.post(
        url("amendment_milestone", contract.pk, amendment.number), milestone_post(**{"milestone-milestone": "999999"})
    )
    assert page.status_code == 400 and check_page(page.content).has_error_summary
    page = client.post(
        url("amendment_kpi", contract.pk, amendment.number),
        {"kpi-name_en": "Complaints answered", "kpi-target": "lots", "kpi-unit": "%", "kpi-frequency": "monthly"},
    )
    assert page.status_code == 400 and check_page(page.content).has_error_summary
    values = form_values(page.content)
    assert values["kpi-name_en"] == ["Complaints answered"] and values["kpi-target"] == ["lots"]
    unchanged()

    # The approver's return needs a reason, kept when refused.
    amendments.amendment_submit(actor=a.officer, amendment=amendment)
    client.force_login(a.approver)
    page = client.post(url("amendment_return", contract.pk, amendment.number), {"return-reason": "No."})
    assert page.status_code == 400 and "at least 10 characters" in html_of(page)
    assert form_values(page.content)["return-reason"] == ["No."]
    amendment.refresh_from_db()
    assert amendment.status == AmendmentStatus.PENDING_APPROVAL


# 3. The attacker's side ----------------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_sign_in(client, active):
    a = active
    amendment = pending(a)
    contract = a.contract
    for address in (url("amendment_create", contract.pk), url("amendment_detail", contract.pk, amendment.number)):
        response = client.get(address)
        assert response.status_code == 302 and response["Location"].startswith(login_url()), address
    for address in [url("amendment_create", contract.pk), *action_urls(contract, amendment.number)]:
        response = client.post(address, {"reason": REASON, "kind": "milestones", "index": "0"})
        assert response.status_code == 302 and response["Location"].startswith(login_url()), address
    amendment.refresh_from_db()
    assert amendment.status == AmendmentStatus.PENDING_APPROVAL and ContractAmendment.objects.count() == 1


def test_outsiders_cannot_draft_edit_submit_or_decide(client, active, other_officer, auditor):
    a = active
    contract = a.contract
    employee = member(a.vendor, administrator=False)
    other_approver = UserFactory(agency=other_officer.agency, roles=[Role.APPROVER])
    draft = drafted_via_pages(client, a.officer, contract)
    number = draft.number

    def tries_to_draft_and_edit(user):
        client.force_login(user)
        assert client.get(url("amendment_create", contract.pk)).status_code == 403, user
        assert client.post(url("amendment_create", contract.pk), {"reason": REASON}).status_code == 403, user
        attempts = {
            "amendment_edit": {"reason": "An outsider rewrites the reason.", "new_value": "1500000.00"},
            "amendment_milestone": milestone_post(),
            "amendment_kpi": {"kpi-name_en": "x", "kpi-name_ar": "x", "kpi-target": "1", "kpi-unit": "%"},
            "amendment_remove_change": {"kind": "milestones", "index": "0"},
            "amendment_submit": {},
        }
        for name, data in attempts.items():
            assert client.post(url(name, contract.pk, number), data).status_code == 403, (user, name)

    for user in (a.signatory, employee, other_officer, auditor, a.approver, other_approver):
        tries_to_draft_and_edit(user)
    for user in (a.signatory, employee, other_officer, auditor, other_approver):
        client.force_login(user)
        assert client.post(url("amendment_withdraw", contract.pk, number)).status_code == 403, user
    draft.refresh_from_db()
    assert draft.reason == REASON and draft.changes == {"milestones": [], "kpis": []}
    assert draft.status == AmendmentStatus.DRAFT and ContractAmendment.objects.count() == 1

    # Sent for approval: only an approver of the agency decides.
    amendments.amendment_change_milestone(
        actor=a.officer,
        amendment=draft,
        title_en=NEW_TITLE_EN,
        title_ar=NEW_TITLE_AR,
        due_date=datetime.date(2031, 6, 30),
        payment_amount="150000",
    )
    amendments.amendment_submit(actor=a.officer, amendment=draft)
    for user in (a.officer, a.agency_signer, a.signatory, employee, other_officer, auditor, other_approver):
        client.force_login(user)
        assert client.post(url("amendment_approve", contract.pk, number)).status_code == 403, user
        response = client.post(url("amendment_return", contract.pk, number), {"return-reason": REASON})
        assert response.status_code == 403, user
    draft.refresh_from_db()
    assert draft.status == AmendmentStatus.PENDING_APPROVAL and not has_version(draft)

    # Other agencies' people do not even see it.
    for user in (other_officer, other_approver):
        client.force_login(user)
        assert client.get(url("amendment_detail", contract.pk, number)).status_code == 403, user

    # The auditor and the contractor's people read it, with no forms to act on it.
    for user in (auditor, a.signatory, employee):
        client.force_login(user)
        page = client.get(url("amendment_detail", contract.pk, number))
        assert page.status_code == 200, user
        html = html_of(page)
        assert REASON in html and NEW_TITLE_EN in html
        for address in action_urls(contract, number):
            assert address not in html, (user, address)
        assert set(check_page(page.content).controls) <= {'<select name="language">'}, user


def test_the_drafter_who_is_also_an_approver_cannot_approve_their_own_amendment(client, active):
    a = active
    contract = a.contract
    both = UserFactory(agency=a.tender.agency, roles=[Role.PROCUREMENT_OFFICER, Role.APPROVER], preferred_language="en")
    amendment = drafted_via_pages(client, both, contract)
    assert client.post(url("amendment_submit", contract.pk, amendment.number)).status_code == 302
    amendment.refresh_from_db()
    assert amendment.status == AmendmentStatus.PENDING_APPROVAL
    detail = url("amendment_detail", contract.pk, amendment.number)
    html = html_of(client.get(detail))
    assert "Approve the amendment" not in html and url("amendment_approve", contract.pk, amendment.number) not in html
    assert "An approver other than you decides on this amendment." in html

    response = client.post(url("amendment_approve", contract.pk, amendment.number), follow=True)
    assert response.redirect_chain == [(detail, 302)]
    assert "another approver must decide on it" in html_of(response)
    response = client.post(
        url("amendment_return", contract.pk, amendment.number), {"return-reason": "I changed my mind about it."}
    )
    assert response.status_code == 400  # refused (why: see the test below)
    amendment.refresh_from_db()
    assert amendment.status == AmendmentStatus.PENDING_APPROVAL and amendment.approved_by is None
    assert not has_version(amendment)

    # Another approver of the agency can.
    client.force_login(a.approver)
    assert "Approve the amendment" in html_of(client.get(detail))


def test_a_refusal_is_explained_even_when_the_page_no_longer_offers_the_form(client, active):
    a = active
    contract = a.contract
    both = UserFactory(agency=a.tender.agency, roles=[Role.PROCUREMENT_OFFICER, Role.APPROVER])
    amendment = drafted_via_pages(client, both, contract)
    client.post(url("amendment_milestone", contract.pk, amendment.number), milestone_post())
    assert client.post(url("amendment_submit", contract.pk, amendment.number)).status_code == 302
    amendment.refresh_from_db()
    assert amendment.status == AmendmentStatus.PENDING_APPROVAL
    explained = {}

    def explains(key, response, words):
        # Explained as a message at the top of the page (the form itself is no longer offered).
        explained[key] = (response.status_code, words in html_of(response))

    # The drafter, who also holds the approver role, tries to send it back: refused, but why?
    response = client.post(url("amendment_return", contract.pk, amendment.number), {"return-reason": REASON})
    explains("drafter returns", response, "another approver must decide on it")
    # The drafter edits it after sending it for approval (a stale tab): refused, but why?
    response = client.post(url("amendment_edit", contract.pk, amendment.number), {"reason": REASON})
    explains("edit when pending", response, "only a draft can be changed")
    response = client.post(url("amendment_milestone", contract.pk, amendment.number), milestone_post())
    explains("milestone when pending", response, "only a draft can be changed")
    response = client.post(
        url("amendment_kpi", contract.pk, amendment.number),
        {
            "kpi-name_en": "Complaints",
            "kpi-name_ar": "الشكاوى",
            "kpi-target": "5",
            "kpi-unit": "%",
            "kpi-frequency": "monthly",
        },
    )
    explains("kpi when pending", response, "only a draft can be changed")
    # The approver sends back an amendment withdrawn meanwhile.
    amendments.amendment_withdraw(actor=both, amendment=amendment)
    client.force_login(a.approver)
    response = client.post(url("amendment_return", contract.pk, amendment.number), {"return-reason": REASON})
    explains("return when withdrawn", response, "cannot be returned")
    assert explained == dict.fromkeys(explained, (400, True))


def test_post_only_pages_refuse_a_get(client, active):
    a = active
    amendment = pending(a)
    for user in (a.officer, a.approver):
        client.force_login(user)
        for address in action_urls(a.contract, amendment.number):
            assert client.get(address).status_code == 405, (user, address)
    amendment.refresh_from_db()
    assert amendment.status == AmendmentStatus.PENDING_APPROVAL


def test_removing_a_change_that_is_not_there_explains_and_removes_nothing(client, active):
    a = active
    contract = a.contract
    amendment = drafted_via_pages(client, a.officer, contract)
    assert client.post(url("amendment_milestone", contract.pk, amendment.number), milestone_post()).status_code == 302
    amendment.refresh_from_db()
    changes = amendment.changes
    remove = url("amendment_remove_change", contract.pk, amendment.number)
    detail = url("amendment_detail", contract.pk, amendment.number)
    for data in (
        {"kind": "milestones", "index": "7"},
        {"kind": "milestones", "index": "-1"},
        {"kind": "milestones", "index": "first"},
        {"kind": "kpis", "index": "0"},
        {"kind": "contract", "index": "0"},
        {},
    ):
        response = client.post(remove, data, follow=True)
        assert response.redirect_chain == [(detail + "#changes", 302)], data
        assert "That change is no longer in the amendment." in html_of(response), data
        amendment.refresh_from_db()
        assert amendment.changes == changes, data
    # The real one goes.
    response = client.post(remove, {"kind": "milestones", "index": "0"}, follow=True)
    assert "The change was removed from the amendment." in html_of(response)
    amendment.refresh_from_db()
    assert amendment.changes["milestones"] == []


# 4. English and Arabic ----------------------------------------------------------------------------------------------


def test_the_pages_render_in_english_and_arabic_for_each_reader(client, active, django_capture_on_commit_callbacks):
    a = active
    contract = a.contract

    def both_languages(user, address):
        client.force_login(user)
        pages = {}
        for language, page_address in (("en", address), ("ar", arabic(address))):
            page = client.get(page_address)
            assert_accessible(page, language)
            pages[language] = html_of(page)
        return pages

    pages = both_languages(a.officer, url("amendment_create", contract.pk))
    assert "Draft the amendment" in pages["en"] and "Draft the amendment" not in pages["ar"]

    amendment = drafted_via_pages(client, a.officer, contract)
    client.post(url("amendment_milestone", contract.pk, amendment.number), milestone_post())
    detail = url("amendment_detail", contract.pk, amendment.number)
    pages = both_languages(a.officer, detail)
    assert NEW_TITLE_EN in pages["en"] and NEW_TITLE_AR in pages["ar"]
    assert "Send for approval" in pages["en"] and "Send for approval" not in pages["ar"]
    for user in (a.approver, a.signatory):
        both_languages(user, detail)

    client.force_login(a.officer)
    client.post(url("amendment_submit", contract.pk, amendment.number))
    for user in (a.officer, a.approver, a.signatory):
        pages = both_languages(user, detail)
    pages = both_languages(a.approver, detail)
    assert "Approve the amendment" in pages["en"] and "اعتماد التعديل" in pages["ar"]

    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url("amendment_approve", contract.pk, amendment.number)).status_code == 302
    for user in (a.officer, a.approver):
        both_languages(user, detail)
    pages = both_languages(a.signatory, detail)
    assert "Sign the amendment" in pages["en"] and "توقيع التعديل" in pages["ar"]

    for signer in (a.signatory, a.agency_signer):
        client.force_login(signer)
        assert client.post(url("contract_sign", contract.pk), {"password": PASSWORD}).status_code == 302
    for user in (a.officer, a.approver, a.signatory):
        pages = both_languages(user, detail)
        assert "Every signature is valid" in pages["en"]


def test_an_arabic_post_stays_in_arabic(client, active):
    a = active
    client.force_login(a.officer)
    response = client.post(arabic(url("amendment_create", a.contract.pk)), {"reason": REASON, "new_value": "1300000"})
    amendment = ContractAmendment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == arabic(url("amendment_detail", a.contract.pk, amendment.number))
    page = client.post(arabic(url("amendment_edit", a.contract.pk, amendment.number)), {"reason": "short"})
    assert page.status_code == 400
    report = check_page(page.content)
    assert report.dir == "rtl" and report.has_error_summary
