"""What each role needs to act on now. Every list here is bounded."""

from __future__ import annotations

import datetime

from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from accounts.roles import AGENCY_ROLES, Role
from audit.models import AuditCheckpoint, AuditEvent
from procurement.models import Addendum, Agency, Clarification, Phase, Programme, Tender
from procurement.models.tenders import AddendumStatus, TenderStatus

LIMIT = 10


def officer_panel(user: User, today: datetime.date) -> dict:
    programmes = Programme.objects.for_agency(user.agency_id).select_related("sponsor_agency").order_by("code")
    soon = today + datetime.timedelta(days=60)
    incomplete = (
        Phase.objects.filter(programme__sponsor_agency_id=user.agency_id, end_date__gte=today, start_date__lte=soon)
        .filter(Q(specification_en="") | Q(deliverables_en="") | Q(specification_ar="") | Q(deliverables_ar=""))
        .select_related("programme")
        .order_by("start_date", "pk")[:LIMIT]
    )
    tenders = Tender.objects.for_agency(user.agency_id).select_related("agency")
    now = timezone.now()
    return {
        "programmes": list(programmes[:LIMIT]),
        "incomplete_phases": list(incomplete),
        "returned_tenders": list(
            tenders.filter(status=TenderStatus.DRAFT).exclude(return_comments="").order_by("-updated_at")[:LIMIT]
        ),
        "drafts": list(tenders.filter(status=TenderStatus.DRAFT, return_comments="").order_by("-updated_at")[:LIMIT]),
        "unanswered_questions": list(
            Clarification.objects.filter(
                tender__agency_id=user.agency_id,
                tender__status=TenderStatus.PUBLISHED,
                answered_at__isnull=True,
            )
            .select_related("tender")
            .order_by("asked_at")[:LIMIT]
        ),
        "due_for_closing": list(tenders.due_for_closing(now).order_by("submission_deadline")[:LIMIT]),
    }


def approver_panel(user: User, today: datetime.date) -> dict:
    steered = user.steered_programmes.select_related("sponsor_agency").order_by("code")[:LIMIT]
    mine = Q(agency_id=user.agency_id) | Q(phase__programme__steering_committee=user)
    pending = (
        Tender.objects.filter(mine, status=TenderStatus.PENDING_APPROVAL)
        .exclude(created_by=user)
        .exclude(submitted_by=user)
        .select_related("agency")
        .distinct()
        .order_by("updated_at")[:LIMIT]
    )
    addenda = (
        Addendum.objects.filter(status=AddendumStatus.PENDING_APPROVAL)
        .filter(Q(tender__agency_id=user.agency_id) | Q(tender__phase__programme__steering_committee=user))
        .exclude(created_by=user)
        .select_related("tender")
        .distinct()
        .order_by("created_at")[:LIMIT]
    )
    return {"steered_programmes": list(steered), "pending_tenders": list(pending), "pending_addenda": list(addenda)}


def auditor_panel(user: User, now: datetime.datetime) -> dict:
    latest_checkpoint = AuditCheckpoint.objects.order_by("-sequence").first()
    head = AuditEvent.objects.order_by("-sequence").values("sequence", "occurred_at").first()
    since = now - datetime.timedelta(hours=24)
    failures = list(
        AuditEvent.objects.filter(action="auth.sign_in_failed", occurred_at__gte=since).order_by("-sequence")[:LIMIT]
    )
    return {
        "latest_checkpoint": latest_checkpoint,
        "head": head,
        "uncovered": (head["sequence"] - latest_checkpoint.sequence) if head and latest_checkpoint else None,
        "recent_failures": failures,
    }


def administrator_panel(user: User) -> dict:
    agency_roles = [str(r) for r in AGENCY_ROLES]
    without_agency = (
        User.objects.filter(groups__name__in=agency_roles, agency__isnull=True, is_active=True)
        .distinct()
        .order_by("email")[:LIMIT]
    )
    without_role = User.objects.filter(groups__isnull=True, is_active=True, is_superuser=False).order_by("email")[
        :LIMIT
    ]
    agencies_without_officers = (
        Agency.objects.active().exclude(staff__groups__name=Role.PROCUREMENT_OFFICER).order_by("code")[:LIMIT]
    )
    return {
        "users_without_agency": list(without_agency),
        "users_without_role": list(without_role),
        "agencies_without_officers": list(agencies_without_officers),
    }


def dashboard_for(user: User) -> dict:
    now = timezone.now()
    today = timezone.localdate()
    panels: dict = {"roles": user.roles}
    if user.has_role(Role.PROCUREMENT_OFFICER) and user.agency_id:
        panels["officer"] = officer_panel(user, today)
    if user.has_role(Role.APPROVER):
        panels["approver"] = approver_panel(user, today)
    if user.has_role(Role.AUDITOR):
        panels["auditor"] = auditor_panel(user, now)
    if user.has_role(Role.ADMINISTRATOR) or user.is_superuser:
        panels["administrator"] = administrator_panel(user)
    panels["committee"] = user.has_role(Role.COMMITTEE_MEMBER)
    if user.has_role(Role.VENDOR_USER):
        panels["vendor"] = {
            "closing_soon": list(
                Tender.objects.filter(status=TenderStatus.PUBLISHED, submission_deadline__gt=now)
                .select_related("agency")
                .order_by("submission_deadline", "id")[:LIMIT]
            )
        }
    return panels
