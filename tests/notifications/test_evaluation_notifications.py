"""The notifications of the evaluation and the award: every kind the evaluation services create renders in
English and in Arabic with the details they store, and each leads its reader to the page it is about."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.urls import NoReverseMatch, reverse
from django.utils import translation

from accounts.roles import Role
from notifications.models import Notification
from notifications.tasks import send_notification_email
from tests.accounts.factories import UserFactory
from tests.procurement.factories import PhaseFactory
from tests.procurement.tender_factories import TenderFactory
from tests.vendors.factories import verified_vendor

pytestmark = pytest.mark.django_db

AWARD_RESULT = {
    "winner": "Nile Networks LLC",
    "won": "no",
    "technical": "65.20",
    "financial": "100.00",
    "combined": "75.64",
    "rank": "2",
    "reasons": "Highest combined score of the qualified bids.",
    "disqualification": "",
    "standstill_ends": "2025-03-14T09:30:00+00:00",
}

# The kinds and details as evaluation_services stores them.
EVALUATION_CONTEXTS = [
    ("evaluation.appointed", {}),
    ("evaluation.started", {}),
    ("evaluation.member_recused", {}),
    ("evaluation.all_scores_in", {}),
    ("evaluation.none_qualified", {}),
    ("bid.qualified", {"reason": "", "score": "81.70"}),
    ("bid.disqualified", {"reason": "Technical score 55.00 is below the pass mark 70.00.", "score": "55.00"}),
    ("award.recommended", {}),
    ("award.result", {**AWARD_RESULT, "standstill_ends": ""}),
    ("award.returned", {"comments": "Check the price of the second bid."}),
    ("complaint.filed", {}),
    ("complaint.upheld", {"decision": "The pass mark was misapplied."}),
    ("complaint.dismissed", {"decision": "The scores follow the published criteria."}),
    ("tender.awarded", {"winner": "Nile Networks LLC"}),
]
IDS = [kind for kind, _ in EVALUATION_CONTEXTS]


@pytest.fixture
def tender(programme, officer):
    return TenderFactory(phase=PhaseFactory(programme=programme), created_by=officer)


@pytest.fixture
def member(db):
    return UserFactory(roles=[Role.COMMITTEE_MEMBER], preferred_language="en")


@pytest.fixture
def bidder(tender):
    _vendor, administrator = verified_vendor()
    return administrator


@pytest.mark.parametrize(("kind", "context"), EVALUATION_CONTEXTS, ids=IDS)
@pytest.mark.parametrize("language", ["en", "ar"])
def test_every_evaluation_notification_renders_with_its_details(kind, context, language, member, tender):
    notification = Notification.objects.create(recipient=member, kind=kind, tender=tender, context=context)

    with translation.override(language):
        subject, body = notification.subject, notification.body

    assert subject != kind, "the kind has a message of its own"
    assert not re.search(r"%\(\w+\)s|%s", subject + body)
    assert tender.reference in subject
    assert tender.reference in body
    if language == "ar":
        assert tender.title_ar in subject
    for key, value in context.items():
        if key != "won" and value:
            assert str(value) in body, key


def test_the_winner_is_told_the_award_is_theirs(member, tender):
    notification = Notification.objects.create(
        recipient=member, kind="award.result", tender=tender, context={**AWARD_RESULT, "won": "yes", "rank": "1"}
    )
    assert "goes to your bid" in notification.subject
    assert "to your bid was approved" in notification.body
    assert "rank 1" in notification.body


def test_a_losing_bidder_learns_the_winner_its_own_scores_the_reasons_and_the_standstill(member, tender):
    notification = Notification.objects.create(
        recipient=member, kind="award.result", tender=tender, context=AWARD_RESULT
    )
    body = notification.body

    assert "in favour of Nile Networks LLC" in body
    assert "technical 65.20, financial 100.00, combined 75.64; rank 2" in body
    assert "Highest combined score of the qualified bids." in body
    assert "2025-03-14 09:30 UTC" in body
    assert "disqualified" not in body


def test_a_disqualified_bidder_reads_why(member, tender):
    context = {**AWARD_RESULT, "technical": "55.00", "financial": "—", "combined": "—", "rank": "—"}
    context["disqualification"] = "Technical score 55.00 is below the pass mark 70.00."
    notification = Notification.objects.create(recipient=member, kind="award.result", tender=tender, context=context)

    assert "Your bid was disqualified: Technical score 55.00 is below the pass mark 70.00." in notification.body


def test_a_disqualification_without_a_score_reads_naturally(member, tender):
    notification = Notification.objects.create(
        recipient=member,
        kind="bid.disqualified",
        tender=tender,
        context={"reason": "Not responsive: missing tax certificate", "score": ""},
    )
    assert "()" not in notification.body
    assert "technical score" not in notification.body
    assert "Reason: Not responsive: missing tax certificate" in notification.body


@pytest.mark.parametrize(("kind", "context"), EVALUATION_CONTEXTS, ids=IDS)
def test_each_is_e_mailed_in_the_readers_language(kind, context, tender):
    reader = UserFactory(roles=[Role.COMMITTEE_MEMBER], preferred_language="ar")
    notification = Notification.objects.create(recipient=reader, kind=kind, tender=tender, context=context)

    send_notification_email.enqueue(notification.pk)

    [message] = mail.outbox
    assert tender.reference in message.subject
    assert tender.title_ar in message.subject


# Where they lead -----------------------------------------------------------------------------------


def _url(name: str, tender) -> str | None:
    try:
        return reverse(name, args=[tender.pk])
    except NoReverseMatch:
        return None


@pytest.mark.parametrize(
    ("kind", "page"),
    [
        ("evaluation.appointed", "procurement:evaluation_workspace"),
        ("evaluation.started", "procurement:evaluation_workspace"),
        ("evaluation.all_scores_in", "procurement:evaluation_workspace"),
        ("award.returned", "procurement:evaluation_workspace"),
        ("complaint.upheld", "procurement:evaluation_workspace"),
    ],
)
def test_the_committee_is_sent_to_the_evaluation_workspace(kind, page, member, tender):
    notification = Notification.objects.create(recipient=member, kind=kind, tender=tender, context={})
    assert notification.link == (_url(page, tender) or tender.get_public_url())


def test_the_approver_is_sent_to_the_award(approver, tender):
    notification = Notification.objects.create(recipient=approver, kind="award.recommended", tender=tender)
    assert notification.link == (_url("procurement:award_detail", tender) or tender.get_absolute_url())


@pytest.mark.parametrize("kind", ["award.result", "complaint.upheld", "complaint.dismissed", "tender.awarded"])
def test_bidders_are_sent_to_their_result(kind, bidder, tender):
    notification = Notification.objects.create(recipient=bidder, kind=kind, tender=tender, context=AWARD_RESULT)
    expected = _url("procurement:award_results", tender) or _url("procurement:evaluation_results", tender)
    assert notification.link == (expected or tender.get_public_url())


def test_officers_are_sent_to_the_complaints(officer, tender):
    notification = Notification.objects.create(recipient=officer, kind="complaint.filed", tender=tender)
    expected = _url("procurement:complaint_list", tender) or _url("procurement:award_detail", tender)
    assert notification.link == (expected or tender.get_absolute_url())


def test_an_evaluation_page_that_does_not_exist_falls_back_on_the_tender(officer, tender, monkeypatch):
    monkeypatch.setitem(Notification.EVALUATION_PAGES, "award.recommended", (["procurement:no_such_page"], None))
    notification = Notification.objects.create(recipient=officer, kind="award.recommended", tender=tender)
    assert notification.link == tender.get_absolute_url()
