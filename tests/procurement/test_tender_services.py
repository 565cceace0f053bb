"""The tender services: every move of the state machine, clarifications, addenda and the deadline
scheduler. For each, what the people involved would notice: the new state, the audit event, who is
told (in-app and by e-mail after the commit), and that a refusal leaves everything as it was."""

from __future__ import annotations

import contextlib
import datetime
import io
import re
from decimal import Decimal
from unittest import mock

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.utils import timezone

from accounts.models import PersonalKey
from accounts.roles import Role
from audit.models import AuditEvent
from core.exceptions import ActionRefused
from notifications.models import Notification
from procurement import tender_services
from procurement.models import (
    Addendum,
    Clarification,
    OpeningCommitteeMember,
    Tender,
    TenderCriterion,
    TenderDocument,
    TenderDocumentDownload,
    TenderKey,
    TenderReferenceCounter,
)
from procurement.models.tenders import AddendumStatus, TenderStatus
from procurement.tasks import advance_deadlines_task
from tests.accounts.factories import UserFactory
from tests.procurement.factories import AgencyFactory, PhaseFactory, ProgrammeFactory
from tests.procurement.tender_factories import (
    TenderFactory,
    make_pending,
    make_published,
    pdf_upload,
    ready_tender,
    set_status,
    with_committee,
    with_criteria,
    with_document,
)

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)

INTRUDERS = ["other_officer", "vendor_user", "auditor", "committee_member"]
ARABIC_LETTER = re.compile(r"[\u0600-\u06FF]")


# Helpers -----------------------------------------------------------------------------------------


def at(moment: datetime.datetime):
    """Set the server's clock as the services read it."""
    return mock.patch("procurement.tender_services._now", return_value=moment)


def _state(tender: Tender, refusal_events: tuple[str, ...] = ()) -> dict:
    return {
        "tender": Tender.objects.filter(pk=tender.pk).values().get(),
        "criteria": list(TenderCriterion.objects.filter(tender=tender).values()),
        "documents": list(TenderDocument.objects.filter(tender=tender).values()),
        "clarifications": list(Clarification.objects.filter(tender=tender).values()),
        "addenda": list(Addendum.objects.filter(tender=tender).values()),
        "audit_events": AuditEvent.objects.exclude(action__in=refusal_events).count(),
        "notifications": Notification.objects.count(),
    }


@contextlib.contextmanager
def nothing_changes(tender: Tender, *, except_refusal: str | None = None):
    """The tender, everything hanging off it, the audit log and the notifications stay as they were
    (but for the one event recording the refusal itself, when the service keeps one)."""
    ignored = (except_refusal,) if except_refusal else ()
    before = _state(tender, ignored)
    refusals_before = AuditEvent.objects.filter(action__in=ignored).count()
    yield
    assert _state(tender, ignored) == before
    if except_refusal:
        assert AuditEvent.objects.filter(action=except_refusal).count() == refusals_before + 1


def event(action: str, tender: Tender) -> AuditEvent:
    return AuditEvent.objects.get(action=action, tender_id=tender.pk)


def notified(kind: str, tender: Tender) -> set[int]:
    return set(Notification.objects.filter(kind=kind, tender=tender).values_list("recipient_id", flat=True))


def mailed_to(user) -> list:
    return [message for message in mail.outbox if user.email in message.to]


def downloaded(tender: Tender, user) -> None:
    document = tender.documents.first()
    TenderDocumentDownload.objects.create(document=document, tender=tender, user=user)


def asked(tender: Tender, user, number: int = 1) -> Clarification:
    return Clarification.objects.create(tender=tender, number=number, question="Is Wi-Fi 7 required?", asked_by=user)


def refresh(tender: Tender) -> Tender:
    tender.refresh_from_db()
    return tender


# Fixtures ----------------------------------------------------------------------------------------


@pytest.fixture
def phase(programme):
    return PhaseFactory(programme=programme)


@pytest.fixture
def draft(phase, officer):
    """Ready to submit: criteria 60 + 40 and one document, deadlines 10 and 30 days ahead."""
    return ready_tender(phase=phase, created_by=officer)


@pytest.fixture
def pending(draft, officer):
    return make_pending(draft, submitted_by=officer)


@pytest.fixture
def published(draft):
    return make_published(draft)


@pytest.fixture
def closed(draft):
    return set_status(draft, TenderStatus.CLOSED, published_at=timezone.now(), closed_at=timezone.now())


@pytest.fixture
def officer_approver(agency):
    """Holds both roles: may prepare tenders and approve other people's."""
    return UserFactory(
        email="both@example.gov",
        agency=agency,
        roles=[Role.PROCUREMENT_OFFICER, Role.APPROVER],
        preferred_language="en",
    )


@pytest.fixture
def colleague_officer(agency):
    """Another officer of the agency, who had no part in the tender."""
    return UserFactory(
        email="colleague@example.gov", agency=agency, roles=[Role.PROCUREMENT_OFFICER], preferred_language="en"
    )


@pytest.fixture
def downloader(published):
    vendor = UserFactory(email="downloader@vendor.example.com", roles=[Role.VENDOR_USER], preferred_language="en")
    downloaded(published, vendor)
    return vendor


@pytest.fixture
def asker(published):
    vendor = UserFactory(email="asker@vendor.example.com", roles=[Role.VENDOR_USER], preferred_language="en")
    asked(published, vendor)
    return vendor


def english(user):
    user.preferred_language = "en"
    user.save(update_fields=["preferred_language"])
    return user


# Creating a tender: reference numbers and what is typed -----------------------------------------


def tender_data(**overrides) -> dict:
    now = timezone.now()
    data = {
        "title_en": "Supply of network equipment",
        "title_ar": "توريد معدات الشبكات",
        "description_en": "Routers and switches.",
        "description_ar": "الموجهات والمبدلات.",
        "category": "goods",
        "estimated_value": Decimal("250000.00"),
        "currency": "SAR",
        "clarification_deadline": now + 10 * DAY,
        "submission_deadline": now + 30 * DAY,
        "opening_time": now + 30 * DAY + datetime.timedelta(hours=1),
    }
    data.update(overrides)
    return data


CRITERIA = [
    {"name_en": "Technical approach", "name_ar": "المنهجية الفنية", "weight": 60},
    {"name_en": "Team experience", "name_ar": "خبرة الفريق", "weight": 40},
]


def _bad_inputs():
    now = timezone.now()
    return {
        "clarification after submission": (
            {"clarification_deadline": now + 31 * DAY},
            None,
            "clarification_deadline",
        ),
        "opening before submission": (
            {"opening_time": now + 29 * DAY},
            None,
            "opening_time",
        ),
        "questions close too near the submission deadline": (
            {"clarification_deadline": now + 27 * DAY},
            None,
            "clarification_deadline",
        ),
        "technical and financial weights not 100": (
            {"technical_weight": Decimal("60"), "financial_weight": Decimal("30")},
            None,
            "financial_weight",
        ),
        "pass mark above 100": ({"pass_mark": Decimal("101")}, None, "pass_mark"),
        "pass mark below 0": ({"pass_mark": Decimal("-1")}, None, "pass_mark"),
        "limited method without justification": (
            {"method": "limited", "method_justification": "  "},
            None,
            "method_justification",
        ),
        "criteria weights not 100": ({}, [{**CRITERIA[0], "weight": 60}, {**CRITERIA[1], "weight": 30}], "criteria"),
    }


BAD_INPUT_NAMES = list(_bad_inputs())


class TestTenderCreate:
    def test_officer_creates_a_draft_with_the_next_reference_of_the_agency_and_year(self, officer, phase, agency):
        year = timezone.localdate().year

        first = tender_services.tender_create(actor=officer, phase=phase, data=tender_data(), criteria=CRITERIA)
        second = tender_services.tender_create(actor=officer, phase=phase, data=tender_data())

        assert (first.reference, second.reference) == (f"MCIT-{year}-0001", f"MCIT-{year}-0002")
        assert first.status == TenderStatus.DRAFT
        assert (first.agency, first.created_by) == (agency, officer)
        assert [(c.name_en, c.weight) for c in first.criteria.all()] == [
            ("Technical approach", Decimal("60")),
            ("Team experience", Decimal("40")),
        ]
        created = event("tender.created", first)
        assert created.actor == officer
        assert created.payload["after"]["reference"] == f"MCIT-{year}-0001"
        assert [c["weight"] for c in created.payload["criteria"]] == ["60.00", "40.00"]

    def test_each_agency_and_each_year_counts_from_one(self, officer, other_officer, phase, other_agency):
        other_phase = PhaseFactory(programme=ProgrammeFactory(sponsor_agency=other_agency))
        year = timezone.localdate().year

        ours = tender_services.tender_create(actor=officer, phase=phase, data=tender_data())
        theirs = tender_services.tender_create(actor=other_officer, phase=other_phase, data=tender_data())
        next_year = datetime.date(year + 1, 1, 2)
        with (
            mock.patch("django.utils.timezone.localdate", return_value=next_year),
            at(timezone.now() + 366 * DAY),
        ):
            later = tender_services.tender_create(
                actor=officer,
                phase=phase,
                data=tender_data(
                    clarification_deadline=timezone.now() + 400 * DAY,
                    submission_deadline=timezone.now() + 420 * DAY,
                    opening_time=timezone.now() + 421 * DAY,
                ),
            )

        assert ours.reference == f"MCIT-{year}-0001"
        assert theirs.reference == f"MOH-{year}-0001"
        assert later.reference == f"MCIT-{year + 1}-0001"

    @pytest.mark.parametrize("intruder", ["vendor_user", "auditor", "committee_member", "approver"])
    def test_only_officers_create_tenders(self, request, intruder, phase):
        with pytest.raises(PermissionDenied):
            tender_services.tender_create(actor=request.getfixturevalue(intruder), phase=phase, data=tender_data())
        assert not Tender.objects.exists()
        assert not AuditEvent.objects.exists()

    @pytest.mark.parametrize("case", BAD_INPUT_NAMES)
    def test_bad_input_is_refused_and_nothing_is_written(self, case, officer, phase):
        overrides, criteria, field = _bad_inputs()[case]

        with pytest.raises(ValidationError) as error:
            tender_services.tender_create(actor=officer, phase=phase, data=tender_data(**overrides), criteria=criteria)

        assert field in error.value.message_dict
        assert not Tender.objects.exists()
        assert not TenderCriterion.objects.exists()
        assert not TenderReferenceCounter.objects.exists()
        assert not AuditEvent.objects.exists()


class TestTenderUpdate:
    def test_officer_edits_a_draft_and_the_change_is_audited(self, officer, draft):
        tender_services.tender_update(actor=officer, tender=draft, data={"title_en": "Supply of routers"})

        assert refresh(draft).title_en == "Supply of routers"
        changed = event("tender.changed", draft)
        assert changed.payload["after"] == {"title_en": "Supply of routers"}

    def test_only_a_draft_can_be_edited(self, officer, published):
        with nothing_changes(published), pytest.raises(ActionRefused):
            tender_services.tender_update(actor=officer, tender=published, data={"title_en": "Changed"})

    @pytest.mark.parametrize("intruder", [*INTRUDERS, "approver"])
    def test_others_cannot_edit(self, request, intruder, draft):
        with nothing_changes(draft), pytest.raises(PermissionDenied):
            tender_services.tender_update(actor=request.getfixturevalue(intruder), tender=draft, data={"title_en": "X"})


# Submission for approval -------------------------------------------------------------------------


class TestSubmitForApproval:
    def test_officer_submits_a_ready_draft_and_the_approvers_are_told(self, officer, approver, draft):
        draft = set_status(draft, TenderStatus.DRAFT, return_comments="Fix the dates.")

        tender_services.tender_submit_for_approval(actor=officer, tender=draft)

        draft = refresh(draft)
        assert draft.status == TenderStatus.PENDING_APPROVAL
        assert draft.submitted_by == officer
        assert draft.return_comments == ""
        submitted = event("tender.submitted_for_approval", draft)
        assert submitted.actor == officer
        assert submitted.payload == {"from": "draft", "to": "pending_approval"}
        assert notified("tender.submitted", draft) == {approver.pk}

    def test_agency_approvers_and_the_steering_committee_from_elsewhere_are_told_but_not_the_preparer(
        self, officer, approver, draft, programme, officer_approver
    ):
        outside_member = UserFactory(agency=AgencyFactory(), roles=[Role.APPROVER])
        programme.steering_committee.add(outside_member)
        Tender.objects.filter(pk=draft.pk).update(created_by=officer_approver)

        tender_services.tender_submit_for_approval(actor=officer, tender=refresh(draft))

        assert notified("tender.submitted", draft) == {approver.pk, outside_member.pk}

    def test_no_e_mail_leaves_before_the_commit(self, officer, approver, draft, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            tender_services.tender_submit_for_approval(actor=officer, tender=draft)

        assert len(callbacks) == 1
        assert mail.outbox == []

    def test_the_approver_gets_an_e_mail_in_english_after_the_commit(
        self, officer, approver, draft, django_capture_on_commit_callbacks
    ):
        english(approver)

        with django_capture_on_commit_callbacks(execute=True):
            tender_services.tender_submit_for_approval(actor=officer, tender=draft)

        [message] = mail.outbox
        assert message.to == [approver.email]
        assert message.subject == f"Tender {draft.reference} — {draft.title_en} awaits your approval"
        assert Notification.objects.get(recipient=approver).emailed_at is not None

    def test_an_arabic_speaking_approver_gets_the_e_mail_in_arabic(
        self, officer, approver, draft, django_capture_on_commit_callbacks
    ):
        assert approver.preferred_language == "ar"

        with django_capture_on_commit_callbacks(execute=True):
            tender_services.tender_submit_for_approval(actor=officer, tender=draft)

        [message] = mailed_to(approver)
        assert draft.title_ar in message.subject
        assert "awaits your approval" not in message.subject
        assert ARABIC_LETTER.search(message.subject.replace(draft.title_ar, ""))

    @pytest.mark.parametrize("state", [TenderStatus.PENDING_APPROVAL, TenderStatus.PUBLISHED, TenderStatus.CANCELLED])
    def test_only_a_draft_can_be_submitted(self, state, officer, draft):
        tender = set_status(draft, state)
        with nothing_changes(tender), pytest.raises(ActionRefused):
            tender_services.tender_submit_for_approval(actor=officer, tender=tender)

    def test_a_draft_without_criteria_is_refused(self, officer, phase):
        tender = TenderFactory(phase=phase, created_by=officer)
        with_document(tender)
        with nothing_changes(tender), pytest.raises(ActionRefused, match="technical criteria"):
            tender_services.tender_submit_for_approval(actor=officer, tender=tender)

    def test_criteria_weights_must_add_up_to_100(self, officer, draft):
        TenderCriterion.objects.filter(tender=draft, weight=40).update(weight=30)
        with nothing_changes(draft), pytest.raises(ActionRefused, match=r"add up to 100 \(now 90(\.00)?\)"):
            tender_services.tender_submit_for_approval(actor=officer, tender=draft)

    def test_a_draft_without_a_document_is_refused(self, officer, phase):
        tender = with_criteria(TenderFactory(phase=phase, created_by=officer))
        with nothing_changes(tender), pytest.raises(ActionRefused, match="tender document"):
            tender_services.tender_submit_for_approval(actor=officer, tender=tender)

    def test_a_lowest_price_tender_needs_no_criteria(self, officer, phase):
        tender = TenderFactory(phase=phase, created_by=officer, evaluation_method="lowest_price")
        with_document(tender)
        with_committee(tender)

        tender_services.tender_submit_for_approval(actor=officer, tender=tender)

        assert refresh(tender).status == TenderStatus.PENDING_APPROVAL

    def test_a_draft_without_an_opening_committee_is_refused(self, officer, phase):
        tender = ready_tender(phase=phase, created_by=officer, committee=0)
        with nothing_changes(tender), pytest.raises(ActionRefused) as refused:
            tender_services.tender_submit_for_approval(actor=officer, tender=tender)
        assert "Name at least 3 members of the opening committee (now 0)." in str(refused.value)

    def test_a_committee_of_two_is_refused(self, officer, phase):
        tender = ready_tender(phase=phase, created_by=officer, committee=2)
        with nothing_changes(tender), pytest.raises(ActionRefused, match=r"at least 3 members .*\(now 2\)"):
            tender_services.tender_submit_for_approval(actor=officer, tender=tender)

    def test_a_committee_member_without_a_personal_key_is_named_in_the_refusal(self, officer, phase):
        tender = ready_tender(phase=phase, created_by=officer, committee=2)
        keyless = UserFactory(roles=[Role.COMMITTEE_MEMBER], full_name="Keyless Member")
        OpeningCommitteeMember.objects.create(tender=tender, user=keyless, nominated_by=officer)
        with nothing_changes(tender), pytest.raises(ActionRefused) as refused:
            tender_services.tender_submit_for_approval(actor=officer, tender=tender)
        assert "have not set up their personal key yet: Keyless Member." in str(refused.value)
        assert "Name at least" not in str(refused.value)

    @pytest.mark.parametrize("intruder", [*INTRUDERS, "approver"])
    def test_others_cannot_submit(self, request, intruder, draft):
        with nothing_changes(draft), pytest.raises(PermissionDenied):
            tender_services.tender_submit_for_approval(actor=request.getfixturevalue(intruder), tender=draft)


# Approval and publication ------------------------------------------------------------------------


class TestApprove:
    def test_approver_publishes_it_by_the_server_clock_and_the_officers_are_told(
        self, approver, officer, colleague_officer, pending
    ):
        moment = timezone.now() + datetime.timedelta(hours=2)

        with at(moment):
            tender_services.tender_approve(actor=approver, tender=pending)

        tender = refresh(pending)
        assert tender.status == TenderStatus.PUBLISHED
        assert tender.published_at == moment
        assert tender.approved_by == approver
        approved = event("tender.approved_and_published", tender)
        assert approved.actor == approver
        assert approved.payload == {"from": "pending_approval", "to": "published"}
        assert notified("tender.published", tender) == {officer.pk, colleague_officer.pk}
        assert Tender.objects.public().filter(pk=tender.pk).exists()

    def test_the_officers_get_an_e_mail_after_the_commit(
        self, approver, officer, colleague_officer, pending, django_capture_on_commit_callbacks
    ):
        english(officer)
        with django_capture_on_commit_callbacks(execute=True):
            tender_services.tender_approve(actor=approver, tender=pending)

        assert sorted(m.to[0] for m in mail.outbox) == sorted([officer.email, colleague_officer.email])
        assert mailed_to(officer)[0].subject == f"Tender {pending.reference} — {pending.title_en} is published"

    def test_approval_makes_the_sealing_key_and_hands_back_the_recovery_share_once(self, approver, pending):
        tender = tender_services.tender_approve(actor=approver, tender=pending)

        key = TenderKey.objects.get(tender=pending)
        assert tender.recovery_share and isinstance(tender.recovery_share, str)
        assert tender.recovery_share not in str(Tender.objects.filter(pk=pending.pk).values().get())
        assert key.shares.count() == 3
        assert event("tender.sealing_key_created", tender).payload["tender_key_fingerprint"] == key.fingerprint

    def test_approval_is_refused_when_a_member_has_lost_the_personal_key(self, approver, pending):
        member = pending.opening_committee.first().user
        PersonalKey.objects.filter(user=member).update(retired_at=timezone.now())

        with nothing_changes(pending), pytest.raises(ActionRefused, match="personal key"):
            tender_services.tender_approve(actor=approver, tender=pending)
        assert not TenderKey.objects.filter(tender=pending).exists()

    def test_a_steering_committee_member_of_another_agency_may_approve(self, programme, pending):
        member = UserFactory(agency=AgencyFactory(), roles=[Role.APPROVER])
        programme.steering_committee.add(member)

        tender_services.tender_approve(actor=member, tender=pending)

        assert refresh(pending).status == TenderStatus.PUBLISHED

    @pytest.mark.parametrize("state", [TenderStatus.DRAFT, TenderStatus.PUBLISHED, TenderStatus.CANCELLED])
    def test_only_a_pending_tender_can_be_approved(self, state, approver, draft):
        tender = set_status(draft, state)
        with nothing_changes(tender), pytest.raises(ActionRefused):
            tender_services.tender_approve(actor=approver, tender=tender)

    @pytest.mark.parametrize("intruder", [*INTRUDERS, "colleague_officer"])
    def test_others_cannot_approve(self, request, intruder, pending):
        with nothing_changes(pending), pytest.raises(PermissionDenied):
            tender_services.tender_approve(actor=request.getfixturevalue(intruder), tender=pending)

    def test_an_approver_of_another_agency_outside_the_steering_committee_cannot_approve(self, pending):
        stranger = UserFactory(agency=AgencyFactory(), roles=[Role.APPROVER])
        with nothing_changes(pending), pytest.raises(PermissionDenied):
            tender_services.tender_approve(actor=stranger, tender=pending)

    @pytest.mark.parametrize("role_in_it", ["prepared", "submitted", "prepared and submitted"])
    def test_four_eyes_whoever_prepared_or_submitted_it_cannot_approve(
        self, role_in_it, officer, officer_approver, draft
    ):
        created_by = officer_approver if "prepared" in role_in_it else officer
        submitted_by = officer_approver if "submitted" in role_in_it else officer
        Tender.objects.filter(pk=draft.pk).update(created_by=created_by)
        tender = make_pending(refresh(draft), submitted_by=submitted_by)
        before = _state(tender)

        with pytest.raises((ActionRefused, PermissionDenied)):
            tender_services.tender_approve(actor=officer_approver, tender=tender)

        after = _state(tender)
        assert after["tender"] == before["tender"]
        assert after["notifications"] == before["notifications"]
        assert not AuditEvent.objects.filter(action="tender.approved_and_published").exists()

    def test_four_eyes_refusal_is_recorded_in_the_audit_log(self, officer_approver, draft):
        Tender.objects.filter(pk=draft.pk).update(created_by=officer_approver)
        tender = make_pending(refresh(draft), submitted_by=officer_approver)

        with pytest.raises((ActionRefused, PermissionDenied)):
            tender_services.tender_approve(actor=officer_approver, tender=tender)

        refused = event("tender.approval_refused", tender)
        assert refused.actor == officer_approver
        assert refused.payload["reason"] == "four eyes"
        assert refresh(tender).status == TenderStatus.PENDING_APPROVAL
        assert not AuditEvent.objects.filter(action="tender.approved_and_published").exists()

    def test_submission_too_soon_after_publication_is_refused_at_approval_time(self, approver, pending):
        # Submission is 30 days after the tender was prepared; 10 days later only 20 remain (21 needed).
        with (
            at(timezone.now() + 10 * DAY),
            nothing_changes(pending),
            pytest.raises(ActionRefused, match="at least 21 days"),
        ):
            tender_services.tender_approve(actor=approver, tender=pending)

    def test_questions_closing_too_soon_after_publication_are_refused_at_approval_time(self, approver, phase, officer):
        now = timezone.now()
        tender = ready_tender(
            phase=phase,
            created_by=officer,
            clarification_deadline=now + 5 * DAY,
            submission_deadline=now + 40 * DAY,
        )
        make_pending(tender)
        with at(now), nothing_changes(tender), pytest.raises(ActionRefused, match="at least 7 days"):
            tender_services.tender_approve(actor=approver, tender=tender)


# Return to draft ---------------------------------------------------------------------------------


class TestReturn:
    def test_approver_returns_it_with_comments_and_the_preparer_is_told(self, approver, officer, pending):
        tender_services.tender_return(actor=approver, tender=pending, comments="  Extend the deadline.  ")

        tender = refresh(pending)
        assert tender.status == TenderStatus.DRAFT
        assert tender.return_comments == "Extend the deadline."
        returned = event("tender.returned", tender)
        assert returned.actor == approver
        assert returned.payload == {"from": "pending_approval", "to": "draft", "comments": "Extend the deadline."}
        assert notified("tender.returned", tender) == {officer.pk}
        assert Notification.objects.get(kind="tender.returned").context == {"comments": "Extend the deadline."}

    def test_the_preparer_gets_the_comments_by_e_mail_after_the_commit(
        self, approver, officer, pending, django_capture_on_commit_callbacks
    ):
        english(officer)
        with django_capture_on_commit_callbacks(execute=True):
            tender_services.tender_return(actor=approver, tender=pending, comments="Extend the deadline.")

        [message] = mail.outbox
        assert message.to == [officer.email]
        assert "Extend the deadline." in message.body

    def test_comments_are_required(self, approver, pending):
        with nothing_changes(pending), pytest.raises(ValidationError) as error:
            tender_services.tender_return(actor=approver, tender=pending, comments="   ")
        assert "comments" in error.value.message_dict

    @pytest.mark.parametrize("state", [TenderStatus.DRAFT, TenderStatus.PUBLISHED, TenderStatus.CLOSED])
    def test_only_a_pending_tender_can_be_returned(self, state, approver, draft):
        tender = set_status(draft, state)
        with nothing_changes(tender), pytest.raises(ActionRefused):
            tender_services.tender_return(actor=approver, tender=tender, comments="Fix it.")

    @pytest.mark.parametrize("intruder", [*INTRUDERS, "officer", "officer_approver"])
    def test_others_cannot_return_it(self, request, intruder, officer_approver, pending):
        Tender.objects.filter(pk=pending.pk).update(submitted_by=officer_approver)
        tender = refresh(pending)
        with nothing_changes(tender), pytest.raises(PermissionDenied):
            tender_services.tender_return(actor=request.getfixturevalue(intruder), tender=tender, comments="Fix it.")


# Closing -----------------------------------------------------------------------------------------


class TestClose:
    def test_officer_closes_it_after_the_submission_deadline(self, officer, colleague_officer, published):
        moment = published.submission_deadline + datetime.timedelta(minutes=1)

        with at(moment):
            tender_services.tender_close(actor=officer, tender=published)

        tender = refresh(published)
        assert tender.status == TenderStatus.CLOSED
        assert tender.closed_at == moment
        closed = event("tender.closed", tender)
        assert closed.actor == officer
        assert closed.payload["from"] == "published"
        assert closed.payload["to"] == "closed"
        assert notified("tender.closed", tender) == {officer.pk, colleague_officer.pk}

    def test_the_officers_get_an_e_mail_after_the_commit(self, officer, published, django_capture_on_commit_callbacks):
        english(officer)
        with at(published.submission_deadline), django_capture_on_commit_callbacks(execute=True):
            tender_services.tender_close(actor=officer, tender=published)

        assert [m.subject for m in mailed_to(officer)] == [
            f"Tender {published.reference} — {published.title_en} is closed for bids"
        ]

    def test_it_cannot_be_closed_before_the_deadline_by_the_server_clock(self, officer, published):
        moment = published.submission_deadline - datetime.timedelta(seconds=1)
        with at(moment), nothing_changes(published), pytest.raises(ActionRefused, match="submission deadline"):
            tender_services.tender_close(actor=officer, tender=published)

    @pytest.mark.parametrize("state", [TenderStatus.DRAFT, TenderStatus.PENDING_APPROVAL, TenderStatus.CLOSED])
    def test_only_a_published_tender_can_be_closed(self, state, officer, draft):
        tender = set_status(draft, state)
        with at(tender.submission_deadline + DAY), nothing_changes(tender), pytest.raises(ActionRefused):
            tender_services.tender_close(actor=officer, tender=tender)

    @pytest.mark.parametrize("intruder", [*INTRUDERS, "approver"])
    def test_others_cannot_close_it(self, request, intruder, published):
        with at(published.submission_deadline + DAY), nothing_changes(published), pytest.raises(PermissionDenied):
            tender_services.tender_close(actor=request.getfixturevalue(intruder), tender=published)


# Cancellation ------------------------------------------------------------------------------------


class TestCancel:
    @pytest.mark.parametrize(
        "state", [TenderStatus.DRAFT, TenderStatus.PENDING_APPROVAL, TenderStatus.PUBLISHED, TenderStatus.CLOSED]
    )
    def test_officer_cancels_it_with_a_reason(self, state, officer, draft):
        tender = set_status(draft, state)

        tender_services.tender_cancel(actor=officer, tender=tender, reason="The budget was withdrawn.")

        tender = refresh(tender)
        assert tender.status == TenderStatus.CANCELLED
        assert tender.cancellation_reason == "The budget was withdrawn."
        cancelled = event("tender.cancelled", tender)
        assert cancelled.actor == officer
        assert cancelled.payload == {"from": state, "to": "cancelled", "reason": "The budget was withdrawn."}

    def test_vendors_who_showed_interest_are_told_the_reason(self, officer, published, downloader, asker):
        tender_services.tender_cancel(actor=officer, tender=published, reason="The budget was withdrawn.")

        assert notified("tender.cancelled", published) == {officer.pk, downloader.pk, asker.pk}
        notification = Notification.objects.get(kind="tender.cancelled", recipient=downloader)
        assert notification.context == {"reason": "The budget was withdrawn."}

    def test_the_vendors_get_the_reason_by_e_mail_after_the_commit(
        self, officer, published, downloader, asker, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            tender_services.tender_cancel(actor=officer, tender=published, reason="The budget was withdrawn.")

        for vendor in (downloader, asker):
            [message] = mailed_to(vendor)
            assert message.subject == f"Tender {published.reference} — {published.title_en} was cancelled"
            assert "The budget was withdrawn." in message.body

    def test_a_reason_is_required(self, officer, published):
        with nothing_changes(published), pytest.raises(ValidationError) as error:
            tender_services.tender_cancel(actor=officer, tender=published, reason="")
        assert "reason" in error.value.message_dict

    @pytest.mark.parametrize("state", [TenderStatus.CANCELLED, TenderStatus.UNSUCCESSFUL])
    def test_a_cancelled_or_unsuccessful_tender_cannot_be_cancelled(self, state, officer, draft):
        tender = set_status(draft, state, cancellation_reason="First reason.")
        with nothing_changes(tender), pytest.raises(ActionRefused):
            tender_services.tender_cancel(actor=officer, tender=tender, reason="Second reason.")

    @pytest.mark.parametrize("intruder", [*INTRUDERS, "approver"])
    def test_others_cannot_cancel_it(self, request, intruder, published):
        with nothing_changes(published), pytest.raises(PermissionDenied):
            tender_services.tender_cancel(actor=request.getfixturevalue(intruder), tender=published, reason="No.")


# Unsuccessful ------------------------------------------------------------------------------------


class TestMarkUnsuccessful:
    def test_officer_declares_a_closed_tender_unsuccessful_and_vendors_are_told(self, officer, closed):
        vendor = UserFactory(roles=[Role.VENDOR_USER], preferred_language="en")
        downloaded(closed, vendor)

        tender_services.tender_mark_unsuccessful(actor=officer, tender=closed, reason="No bids were received.")

        tender = refresh(closed)
        assert tender.status == TenderStatus.UNSUCCESSFUL
        assert tender.unsuccessful_reason == "No bids were received."
        marked = event("tender.unsuccessful", tender)
        assert marked.actor == officer
        assert marked.payload == {"from": "closed", "to": "unsuccessful", "reason": "No bids were received."}
        assert notified("tender.unsuccessful", tender) == {officer.pk, vendor.pk}

    def test_the_vendors_get_the_reason_by_e_mail_after_the_commit(
        self, officer, closed, django_capture_on_commit_callbacks
    ):
        vendor = UserFactory(roles=[Role.VENDOR_USER], preferred_language="en")
        downloaded(closed, vendor)

        with django_capture_on_commit_callbacks(execute=True):
            tender_services.tender_mark_unsuccessful(actor=officer, tender=closed, reason="No bids were received.")

        [message] = mailed_to(vendor)
        assert "No bids were received." in message.body

    @pytest.mark.parametrize(
        "state", [TenderStatus.DRAFT, TenderStatus.PUBLISHED, TenderStatus.CANCELLED, TenderStatus.UNSUCCESSFUL]
    )
    def test_only_a_closed_or_later_tender_can_be_unsuccessful(self, state, officer, draft):
        tender = set_status(draft, state)
        with nothing_changes(tender), pytest.raises(ActionRefused):
            tender_services.tender_mark_unsuccessful(actor=officer, tender=tender, reason="No bids.")

    def test_a_reason_is_required(self, officer, closed):
        with nothing_changes(closed), pytest.raises(ValidationError):
            tender_services.tender_mark_unsuccessful(actor=officer, tender=closed, reason=" ")

    @pytest.mark.parametrize("intruder", [*INTRUDERS, "approver"])
    def test_others_cannot_declare_it_unsuccessful(self, request, intruder, closed):
        with nothing_changes(closed), pytest.raises(PermissionDenied):
            tender_services.tender_mark_unsuccessful(
                actor=request.getfixturevalue(intruder), tender=closed, reason="No bids."
            )


# Clarifications ----------------------------------------------------------------------------------


class TestClarificationAsk:
    def test_vendor_asks_before_the_clarification_deadline_and_the_officers_are_told(
        self, vendor_user, officer, colleague_officer, published
    ):
        with at(published.clarification_deadline - datetime.timedelta(minutes=1)):
            first = tender_services.clarification_ask(actor=vendor_user, tender=published, question=" Wi-Fi 7? ")
            second = tender_services.clarification_ask(actor=vendor_user, tender=published, question="PoE budget?")

        assert (first.number, second.number) == (1, 2)
        assert first.question == "Wi-Fi 7?"
        assert first.asked_by == vendor_user
        question_asked = AuditEvent.objects.filter(action="tender.question_asked").order_by("sequence").first()
        assert question_asked.actor == vendor_user
        assert question_asked.payload == {"number": 1, "question": "Wi-Fi 7?"}
        assert notified("clarification.asked", published) == {officer.pk, colleague_officer.pk}

    def test_the_officers_get_an_e_mail_after_the_commit(
        self, vendor_user, officer, published, django_capture_on_commit_callbacks
    ):
        english(officer)
        with django_capture_on_commit_callbacks(execute=True):
            tender_services.clarification_ask(actor=vendor_user, tender=published, question="Wi-Fi 7?")

        [message] = mail.outbox
        assert message.to == [officer.email]
        assert message.subject == f"New question on {published.reference} — {published.title_en}"

    def test_a_question_after_the_deadline_is_refused_although_the_tender_is_still_published(
        self, vendor_user, published
    ):
        assert published.status == TenderStatus.PUBLISHED
        with (
            at(published.clarification_deadline),
            nothing_changes(published, except_refusal="tender.question_refused"),
            pytest.raises(ActionRefused, match="clarification deadline"),
        ):
            tender_services.clarification_ask(actor=vendor_user, tender=published, question="Too late?")

    def test_a_late_question_is_recorded_in_the_audit_log(self, vendor_user, published):
        with at(published.clarification_deadline + DAY), pytest.raises(ActionRefused):
            tender_services.clarification_ask(actor=vendor_user, tender=published, question="Too late?")

        refused = event("tender.question_refused", published)
        assert refused.actor == vendor_user
        assert refused.payload["reason"] == "clarification deadline"
        assert not Clarification.objects.exists()

    @pytest.mark.parametrize("state", [TenderStatus.DRAFT, TenderStatus.PENDING_APPROVAL, TenderStatus.CLOSED])
    def test_questions_only_on_a_published_tender(self, state, vendor_user, draft):
        tender = set_status(draft, state)
        with nothing_changes(tender, except_refusal="tender.question_refused"), pytest.raises(ActionRefused):
            tender_services.clarification_ask(actor=vendor_user, tender=tender, question="Anything?")

    def test_an_empty_question_is_refused(self, vendor_user, published):
        with nothing_changes(published), pytest.raises(ValidationError):
            tender_services.clarification_ask(actor=vendor_user, tender=published, question="  ")

    @pytest.mark.parametrize("intruder", ["officer", "other_officer", "auditor", "committee_member", "approver"])
    def test_only_vendors_ask(self, request, intruder, published):
        with nothing_changes(published), pytest.raises(PermissionDenied):
            tender_services.clarification_ask(
                actor=request.getfixturevalue(intruder), tender=published, question="Anything?"
            )


class TestClarificationAnswer:
    def test_officer_answers_and_interested_vendors_are_told_without_naming_the_asker(
        self, officer, published, asker, downloader
    ):
        clarification = published.clarifications.get()
        moment = published.clarification_deadline + DAY  # answers may come until the submission deadline

        with at(moment):
            tender_services.clarification_answer(actor=officer, clarification=clarification, answer=" Wi-Fi 6E. ")

        clarification.refresh_from_db()
        assert (clarification.answer, clarification.answered_by, clarification.answered_at) == (
            "Wi-Fi 6E.",
            officer,
            moment,
        )
        answered = event("tender.question_answered", published)
        assert answered.actor == officer
        assert answered.payload == {"number": 1, "before": {"answer": ""}, "after": {"answer": "Wi-Fi 6E."}}
        assert notified("clarification.answered", published) == {asker.pk, downloader.pk}
        for notification in Notification.objects.filter(kind="clarification.answered"):
            assert notification.context == {"number": 1}

    def test_the_vendors_get_an_e_mail_that_does_not_name_the_asker(
        self, officer, published, asker, downloader, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            tender_services.clarification_answer(
                actor=officer, clarification=published.clarifications.get(), answer="Wi-Fi 6E."
            )

        assert {m.to[0] for m in mail.outbox} == {asker.email, downloader.email}
        for notification in Notification.objects.filter(kind="clarification.answered"):
            text = notification.subject + notification.body
            assert asker.email not in text
            assert asker.full_name not in text
        for message in mail.outbox:
            assert asker.email not in message.subject + message.body
            assert asker.full_name not in message.subject + message.body
        assert mailed_to(downloader)[0].subject == (
            f"Question 1 on {published.reference} — {published.title_en} was answered"
        )

    def test_no_answer_after_the_submission_deadline(self, officer, published, asker):
        clarification = published.clarifications.get()
        with at(published.submission_deadline), nothing_changes(published), pytest.raises(ActionRefused):
            tender_services.clarification_answer(actor=officer, clarification=clarification, answer="Late.")

    @pytest.mark.parametrize("state", [TenderStatus.CLOSED, TenderStatus.CANCELLED])
    def test_no_answer_once_the_tender_is_no_longer_open(self, state, officer, published, asker):
        tender = set_status(published, state)
        with nothing_changes(tender), pytest.raises(ActionRefused):
            tender_services.clarification_answer(
                actor=officer, clarification=tender.clarifications.get(), answer="Late."
            )

    def test_an_empty_answer_is_refused(self, officer, published, asker):
        with nothing_changes(published), pytest.raises(ValidationError):
            tender_services.clarification_answer(actor=officer, clarification=published.clarifications.get(), answer="")

    @pytest.mark.parametrize("intruder", [*INTRUDERS, "approver", "asker"])
    def test_only_the_agency_officers_answer(self, request, intruder, published, asker):
        with nothing_changes(published), pytest.raises(PermissionDenied):
            tender_services.clarification_answer(
                actor=request.getfixturevalue(intruder), clarification=published.clarifications.get(), answer="Yes."
            )


# Addenda -----------------------------------------------------------------------------------------


def addendum_data(**overrides) -> dict:
    data = {"summary_en": "Revised terms of reference.", "summary_ar": "الشروط المرجعية المعدلة."}
    data.update(overrides)
    return data


NEW_CRITERIA = [
    {"name_en": "Technical approach", "name_ar": "المنهجية الفنية", "weight": 50},
    {"name_en": "Local content", "name_ar": "المحتوى المحلي", "weight": 50},
]


class TestAddendumIssuedAtOnce:
    def test_new_documents_are_issued_at_once_and_replace_those_with_the_same_title(
        self, officer, published, downloader, asker, approver
    ):
        original = published.documents.get()
        annex = with_document(published, title="Bill of quantities")
        moment = timezone.now() + DAY

        with at(moment):
            addendum = tender_services.addendum_create(
                actor=officer,
                tender=published,
                data=addendum_data(),
                files=[("Terms of reference", pdf_upload("terms-v2.pdf"))],
            )

        addendum.refresh_from_db()
        assert (addendum.number, addendum.status, addendum.issued_at) == (1, AddendumStatus.ISSUED, moment)
        assert addendum.approved_by is None
        replacement = TenderDocument.objects.get(addendum=addendum)
        assert replacement.title == "Terms of reference"
        original.refresh_from_db()
        annex.refresh_from_db()
        assert original.superseded_by == replacement
        assert annex.superseded_by is None
        assert set(published.documents.filter(superseded_by__isnull=True)) == {replacement, annex}
        prepared = AuditEvent.objects.get(action="tender.addendum_prepared")
        assert prepared.payload["number"] == 1
        issued = event("tender.addendum_issued", published)
        assert issued.actor == officer
        assert issued.payload["number"] == 1
        assert issued.payload["approved_by"] is None
        assert notified("addendum.issued", published) == {downloader.pk, asker.pk, officer.pk}
        assert approver.pk not in notified("addendum.issued", published)
        assert event("tender.document_added", published).payload["addendum"] == 1

    def test_everyone_interested_gets_an_e_mail_after_the_commit(
        self, officer, published, downloader, asker, django_capture_on_commit_callbacks
    ):
        english(officer)
        with django_capture_on_commit_callbacks(execute=True):
            tender_services.addendum_create(
                actor=officer, tender=published, data=addendum_data(), files=[("Terms of reference", pdf_upload())]
            )

        assert {m.to[0] for m in mail.outbox} == {downloader.email, asker.email, officer.email}
        assert mailed_to(downloader)[0].subject == (
            f"Addendum 1 to {published.reference} — {published.title_en} was issued"
        )

    def test_addenda_are_numbered_in_order(self, officer, published):
        first = tender_services.addendum_create(actor=officer, tender=published, data=addendum_data())
        second = tender_services.addendum_create(actor=officer, tender=published, data=addendum_data())
        assert (first.number, second.number) == (1, 2)

    def test_an_extension_of_the_deadlines_is_issued_at_once_and_moves_them(self, officer, published, downloader):
        new_clarification = published.clarification_deadline + 7 * DAY
        new_submission = published.submission_deadline + 7 * DAY
        new_opening = published.opening_time + 7 * DAY

        addendum = tender_services.addendum_create(
            actor=officer,
            tender=published,
            data=addendum_data(
                new_clarification_deadline=new_clarification,
                new_submission_deadline=new_submission,
                new_opening_time=new_opening,
            ),
        )

        assert refresh(addendum).status == AddendumStatus.ISSUED
        tender = refresh(published)
        assert (tender.clarification_deadline, tender.submission_deadline, tender.opening_time) == (
            new_clarification,
            new_submission,
            new_opening,
        )
        issued = event("tender.addendum_issued", tender)
        assert set(issued.payload["changes"]) == {"clarification_deadline", "submission_deadline", "opening_time"}
        assert downloader.pk in notified("addendum.issued", tender)


class TestAddendumNeedingApproval:
    def test_a_new_estimated_value_waits_for_approval(self, officer, approver, published, downloader):
        addendum = tender_services.addendum_create(
            actor=officer, tender=published, data=addendum_data(new_estimated_value=Decimal("300000.00"))
        )

        assert refresh(addendum).status == AddendumStatus.PENDING_APPROVAL
        assert refresh(published).estimated_value == Decimal("250000.00")
        assert notified("addendum.pending_approval", published) == {approver.pk}
        assert not notified("addendum.issued", published)
        assert not AuditEvent.objects.filter(action="tender.addendum_issued").exists()
        assert AuditEvent.objects.get(action="tender.addendum_prepared").payload["after"]["new_estimated_value"] == (
            "300000.00"
        )

    def test_the_approvers_get_an_e_mail_after_the_commit(
        self, officer, approver, published, django_capture_on_commit_callbacks
    ):
        english(approver)
        with django_capture_on_commit_callbacks(execute=True):
            tender_services.addendum_create(
                actor=officer, tender=published, data=addendum_data(new_estimated_value=Decimal("300000.00"))
            )

        [message] = mail.outbox
        assert message.to == [approver.email]
        assert message.subject == f"Addendum 1 to {published.reference} — {published.title_en} awaits your approval"

    def test_approving_a_new_estimated_value_changes_the_tender(self, officer, approver, published, downloader):
        addendum = tender_services.addendum_create(
            actor=officer, tender=published, data=addendum_data(new_estimated_value=Decimal("300000.00"))
        )
        moment = timezone.now() + DAY

        with at(moment):
            tender_services.addendum_approve(actor=approver, addendum=addendum)

        addendum.refresh_from_db()
        assert (addendum.status, addendum.approved_by, addendum.issued_at) == (AddendumStatus.ISSUED, approver, moment)
        assert refresh(published).estimated_value == Decimal("300000.00")
        issued = event("tender.addendum_issued", published)
        assert issued.payload["approved_by"] == approver.pk
        assert issued.payload["changes"] == {"estimated_value": "300000.00"}
        assert downloader.pk in notified("addendum.issued", published)

    def test_new_criteria_wait_for_approval_and_replace_the_published_ones_when_approved(
        self, officer, approver, published, downloader, asker
    ):
        addendum = tender_services.addendum_create(
            actor=officer, tender=published, data=addendum_data(new_criteria=NEW_CRITERIA)
        )
        assert refresh(addendum).status == AddendumStatus.PENDING_APPROVAL
        assert [c.weight for c in published.criteria.all()] == [Decimal("60"), Decimal("40")]
        assert not notified("addendum.issued", published)

        tender_services.addendum_approve(actor=approver, addendum=addendum)

        addendum.refresh_from_db()
        assert (addendum.status, addendum.approved_by) == (AddendumStatus.ISSUED, approver)
        assert [(c.name_en, c.weight) for c in published.criteria.all()] == [
            ("Technical approach", Decimal("50")),
            ("Local content", Decimal("50")),
        ]
        issued = event("tender.addendum_issued", published)
        assert issued.actor == approver
        assert [c["weight"] for c in issued.payload["criteria"]["before"]] == ["60.00", "40.00"]
        assert [c["weight"] for c in issued.payload["criteria"]["after"]] == ["50.00", "50.00"]
        assert {downloader.pk, asker.pk} <= notified("addendum.issued", published)

    def test_approval_e_mails_everyone_interested_after_the_commit(
        self, officer, approver, published, downloader, asker, django_capture_on_commit_callbacks
    ):
        addendum = tender_services.addendum_create(
            actor=officer, tender=published, data=addendum_data(new_criteria=NEW_CRITERIA)
        )
        with django_capture_on_commit_callbacks(execute=True):
            tender_services.addendum_approve(actor=approver, addendum=addendum)

        assert mailed_to(downloader)
        assert mailed_to(asker)

    def test_the_documents_of_a_pending_addendum_replace_nothing_until_it_is_issued(self, officer, approver, published):
        original = published.documents.get()
        addendum = tender_services.addendum_create(
            actor=officer,
            tender=published,
            data=addendum_data(new_criteria=NEW_CRITERIA),
            files=[("Terms of reference", pdf_upload())],
        )
        original.refresh_from_db()
        assert original.superseded_by is None

        tender_services.addendum_approve(actor=approver, addendum=addendum)

        original.refresh_from_db()
        assert original.superseded_by == TenderDocument.objects.get(addendum=addendum)

    def test_four_eyes_the_author_of_the_addendum_cannot_approve_it(self, officer_approver, published):
        addendum = tender_services.addendum_create(
            actor=officer_approver, tender=published, data=addendum_data(new_criteria=NEW_CRITERIA)
        )
        with nothing_changes(published), pytest.raises((ActionRefused, PermissionDenied)):
            tender_services.addendum_approve(actor=officer_approver, addendum=addendum)
        assert refresh(addendum).status == AddendumStatus.PENDING_APPROVAL

    @pytest.mark.parametrize("intruder", [*INTRUDERS, "officer"])
    def test_others_cannot_approve_an_addendum(self, request, intruder, officer_approver, published):
        addendum = tender_services.addendum_create(
            actor=officer_approver, tender=published, data=addendum_data(new_criteria=NEW_CRITERIA)
        )
        with nothing_changes(published), pytest.raises(PermissionDenied):
            tender_services.addendum_approve(actor=request.getfixturevalue(intruder), addendum=addendum)

    def test_an_issued_addendum_cannot_be_approved_again(self, officer, approver, published):
        addendum = tender_services.addendum_create(
            actor=officer, tender=published, data=addendum_data(new_criteria=NEW_CRITERIA)
        )
        tender_services.addendum_approve(actor=approver, addendum=addendum)
        with nothing_changes(published), pytest.raises(ActionRefused):
            tender_services.addendum_approve(actor=approver, addendum=addendum)

    def test_it_cannot_be_approved_after_the_submission_deadline(self, officer, approver, published):
        addendum = tender_services.addendum_create(
            actor=officer, tender=published, data=addendum_data(new_criteria=NEW_CRITERIA)
        )
        with at(published.submission_deadline), nothing_changes(published), pytest.raises(ActionRefused):
            tender_services.addendum_approve(actor=approver, addendum=addendum)


class TestAddendumRefused:
    @pytest.mark.parametrize("field", ["new_clarification_deadline", "new_submission_deadline", "new_opening_time"])
    def test_an_addendum_cannot_shorten_a_deadline(self, field, officer, published):
        current = {
            "new_clarification_deadline": published.clarification_deadline,
            "new_submission_deadline": published.submission_deadline,
            "new_opening_time": published.opening_time,
        }[field]
        with nothing_changes(published), pytest.raises(ValidationError) as error:
            tender_services.addendum_create(
                actor=officer,
                tender=published,
                data=addendum_data(**{field: current - datetime.timedelta(hours=1)}),
                files=[("Terms of reference", pdf_upload())],
            )
        assert field in error.value.message_dict

    def test_no_addendum_after_the_submission_deadline_by_the_server_clock(self, officer, published):
        assert published.status == TenderStatus.PUBLISHED
        with (
            at(published.submission_deadline + datetime.timedelta(minutes=1)),
            nothing_changes(published),
            pytest.raises(ActionRefused),
        ):
            tender_services.addendum_create(
                actor=officer, tender=published, data=addendum_data(), files=[("Terms of reference", pdf_upload())]
            )

    @pytest.mark.parametrize("state", [TenderStatus.DRAFT, TenderStatus.PENDING_APPROVAL, TenderStatus.CLOSED])
    def test_only_a_published_tender_gets_addenda(self, state, officer, draft):
        tender = set_status(draft, state)
        with nothing_changes(tender), pytest.raises(ActionRefused):
            tender_services.addendum_create(actor=officer, tender=tender, data=addendum_data())

    @pytest.mark.parametrize(
        "criteria",
        [
            [{**NEW_CRITERIA[0], "weight": 50}, {**NEW_CRITERIA[1], "weight": 40}],
            [],
            [{"name_en": "No weight", "name_ar": "بلا وزن"}],
            [{"name_en": "Bad weight", "name_ar": "وزن خاطئ", "weight": "a lot"}],
        ],
        ids=["not 100", "empty", "no weight", "weight not a number"],
    )
    def test_new_criteria_must_be_complete_and_add_up_to_100(self, criteria, officer, published):
        with nothing_changes(published), pytest.raises(ValidationError) as error:
            tender_services.addendum_create(actor=officer, tender=published, data=addendum_data(new_criteria=criteria))
        assert "new_criteria" in error.value.message_dict

    def test_new_criteria_without_names_are_refused_when_prepared(self, officer, published):
        with nothing_changes(published), pytest.raises(ValidationError) as error:
            tender_services.addendum_create(
                actor=officer,
                tender=published,
                data=addendum_data(new_criteria=[{"name_en": "No Arabic name", "weight": 100}]),
            )
        assert "new_criteria" in error.value.message_dict

    def test_a_refused_file_leaves_no_addendum_behind(self, officer, published):
        with nothing_changes(published), pytest.raises(ValidationError):
            tender_services.addendum_create(
                actor=officer,
                tender=published,
                data=addendum_data(),
                files=[("Terms of reference", pdf_upload("terms.pdf", b"<html>not a pdf</html>"))],
            )

    def test_a_summary_is_required(self, officer, published):
        with nothing_changes(published), pytest.raises(ValidationError):
            tender_services.addendum_create(actor=officer, tender=published, data={})

    @pytest.mark.parametrize("intruder", [*INTRUDERS, "approver"])
    def test_others_cannot_prepare_an_addendum(self, request, intruder, published):
        with nothing_changes(published), pytest.raises(PermissionDenied):
            tender_services.addendum_create(
                actor=request.getfixturevalue(intruder), tender=published, data=addendum_data()
            )


# The deadline scheduler --------------------------------------------------------------------------


@pytest.fixture
def tenders_around_a_deadline(phase, officer):
    """Published tenders due and not yet due, and tenders in other states whose deadline passed too."""
    now = timezone.now()
    due = [make_published(ready_tender(phase=phase, created_by=officer)) for _ in range(2)]
    not_due = make_published(
        ready_tender(
            phase=phase,
            created_by=officer,
            clarification_deadline=now + 20 * DAY,
            submission_deadline=now + 40 * DAY,
        )
    )
    others = [
        ready_tender(phase=phase, created_by=officer),
        make_pending(ready_tender(phase=phase, created_by=officer)),
        set_status(ready_tender(phase=phase, created_by=officer), TenderStatus.CLOSED, closed_at=now),
        set_status(ready_tender(phase=phase, created_by=officer), TenderStatus.CANCELLED),
    ]
    return {"due": due, "not_due": not_due, "others": others, "clock": now + 31 * DAY}


def _statuses(tenders) -> dict[int, tuple]:
    return {t.pk: tuple(Tender.objects.filter(pk=t.pk).values_list("status", "closed_at").get()) for t in tenders}


class TestAdvanceDeadlines:
    def test_the_command_closes_every_due_tender_and_nothing_else(self, tenders_around_a_deadline, officer):
        world = tenders_around_a_deadline
        untouched = [world["not_due"], *world["others"]]
        before = _statuses(untouched)
        output = io.StringIO()

        with at(world["clock"]):
            call_command("advance_deadlines", stdout=output)

        for tender in world["due"]:
            tender = refresh(tender)
            assert (tender.status, tender.closed_at) == (TenderStatus.CLOSED, world["clock"])
            closed = event("tender.closed", tender)
            assert closed.actor is None
            assert closed.actor_label == "system"
            assert closed.payload["from"] == "published"
            assert closed.payload["to"] == "closed"
            assert tender.reference in output.getvalue()
        assert _statuses(untouched) == before
        assert AuditEvent.objects.filter(action="tender.closed").count() == 2
        assert "Closed 2 tender(s)" in output.getvalue()
        assert all(notified("tender.closed", t) == {officer.pk} for t in world["due"])

    def test_the_officers_get_an_e_mail_for_each_closed_tender(
        self, tenders_around_a_deadline, officer, django_capture_on_commit_callbacks
    ):
        english(officer)
        with at(tenders_around_a_deadline["clock"]), django_capture_on_commit_callbacks(execute=True):
            call_command("advance_deadlines", stdout=io.StringIO())

        assert len(mailed_to(officer)) == 2

    def test_a_second_run_changes_nothing(self, tenders_around_a_deadline):
        world = tenders_around_a_deadline
        with at(world["clock"]):
            call_command("advance_deadlines", stdout=io.StringIO())
            events, notifications = AuditEvent.objects.count(), Notification.objects.count()
            output = io.StringIO()
            call_command("advance_deadlines", stdout=output)

        assert (AuditEvent.objects.count(), Notification.objects.count()) == (events, notifications)
        assert "Nothing is due." in output.getvalue()

    def test_nothing_is_closed_a_moment_before_the_deadline(self, tenders_around_a_deadline):
        world = tenders_around_a_deadline
        earliest = min(t.submission_deadline for t in world["due"])
        with at(earliest - datetime.timedelta(seconds=1)):
            call_command("advance_deadlines", stdout=io.StringIO())
        assert not Tender.objects.filter(status=TenderStatus.CLOSED).exclude(pk=world["others"][2].pk).exists()

    def test_the_task_runs_once_under_the_immediate_backend(self, tenders_around_a_deadline):
        world = tenders_around_a_deadline
        spy = mock.Mock(wraps=tender_services.advance_deadlines)

        with at(world["clock"]), mock.patch("procurement.tasks.advance_deadlines", spy):
            result = advance_deadlines_task.enqueue()

        assert result.status == "SUCCESSFUL", result.errors
        assert sorted(result.return_value) == sorted(t.reference for t in world["due"])
        assert spy.call_count == 1
        assert Tender.objects.filter(status=TenderStatus.CLOSED).count() == 3


def test_a_document_is_published_by_the_same_rule_row_by_row_and_in_queries(db):
    """TenderDocument.is_published and TenderDocument.objects.published() never disagree."""
    from procurement.models import Addendum, TenderDocument
    from procurement.models.tenders import AddendumStatus
    from tests.procurement.tender_factories import TenderFactory, with_document

    tender = TenderFactory()
    own = with_document(tender, title="Terms")
    documents = [own]
    for number, status in enumerate(AddendumStatus.values, start=1):
        addendum = Addendum.objects.create(
            tender=tender, number=number, summary_en="x", summary_ar="س", created_by=tender.created_by
        )
        Addendum.objects.filter(pk=addendum.pk).update(status=status)
        document = with_document(tender, title=f"Addendum {number}")
        TenderDocument.objects.filter(pk=document.pk).update(addendum=addendum)
        documents.append(document)
    in_query = set(TenderDocument.objects.filter(tender=tender).published().values_list("pk", flat=True))
    by_row = {d.pk for d in TenderDocument.objects.filter(tender=tender).select_related("addendum") if d.is_published}
    assert in_query == by_row
    assert own.pk in by_row and len(by_row) == 2  # the tender's own document and the issued addendum's
