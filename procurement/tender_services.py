"""Every write to a tender: lock the row, check who and when, transition, audit, notify after commit.

Each public function is one transaction. A refusal raises ``PermissionDenied`` (who), ``ActionRefused``
(state, deadline, four eyes) or ``ValidationError`` (what was typed) and leaves nothing half-written.
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import TransitionNotAllowed

from accounts.models import User
from accounts.roles import Role
from audit.services import audit_event_append, audit_model_saved, model_snapshot
from core.exceptions import ActionRefused, require_perm
from core.uploads import inspect_upload
from notifications.services import notify
from procurement.models import (
    Addendum,
    Clarification,
    Phase,
    Tender,
    TenderCriterion,
    TenderDocument,
    TenderDocumentDownload,
    TenderReferenceCounter,
)
from procurement.models.tenders import AddendumStatus, TenderStatus

TENDER_FIELDS = (
    "title_en", "title_ar", "description_en", "description_ar", "method", "method_justification", "category",
    "estimated_value", "currency", "minimum_bids", "evaluation_method", "technical_weight", "financial_weight",
    "pass_mark", "consensus_rule", "evaluation_quorum", "clarification_deadline", "submission_deadline",
    "opening_time",
)  # fmt: skip


def _now() -> datetime.datetime:
    return timezone.now()


class _RecordedRefusal(ActionRefused):
    """A refusal that must stay in the audit log although the action's transaction is rolled back; the caller
    is given a ``public`` refusal (an ``ActionRefused``, or a subclass the views tell apart by type)."""

    public: type[ActionRefused] = ActionRefused

    def __init__(self, message: str, *, tender: Tender, actor, action: str, payload: dict):
        super().__init__(message)
        self.audit = {
            "action": action,
            "actor": actor,
            "object_type": "procurement.tender",
            "object_id": tender.pk,
            "object_label": str(tender)[:255],
            "scope": tender.audit_scope(),
            "payload": payload,
        }


def _atomic_recording_refusals(service):
    """Run ``service`` in one transaction; if it refuses with a _RecordedRefusal, roll back its work,
    then write the refusal to the audit log in a transaction of its own and re-raise it."""

    @functools.wraps(service)
    def run(*args, **kwargs):
        try:
            with transaction.atomic():
                return service(*args, **kwargs)
        except _RecordedRefusal as refusal:
            with transaction.atomic():
                audit_event_append(**refusal.audit)
            raise refusal.public(refusal.message) from None

    return run


def _locked(tender: Tender | int) -> Tender:
    pk = tender.pk if isinstance(tender, Tender) else tender
    # of=("self",): lock the tender row only, not its agency, phase and programme (which other
    # tenders share), so that work on one tender never queues behind work on another.
    return Tender.objects.select_for_update(of=("self",)).select_related("phase__programme", "agency").get(pk=pk)


def _refuse_state(tender: Tender, action: str) -> ActionRefused:
    return ActionRefused(
        _("The tender is now “%(status)s”: it cannot be %(action)s.")
        % {"status": tender.get_status_display(), "action": action}
    )


def _transition(tender: Tender, method, action: str, **kwargs) -> tuple[str, str]:
    source = tender.status
    try:
        method(**kwargs)
    except TransitionNotAllowed as error:
        raise _refuse_state(tender, action) from error
    return source, tender.status


def _record(tender: Tender, *, actor, name: str, source: str, target: str, **details) -> None:
    audit_event_append(
        action=f"tender.{name}", actor=actor, obj=tender, payload={"from": source, "to": target, **details}
    )


def _save_state(tender: Tender, *fields: str) -> None:
    tender.save(update_fields=["status", "updated_at", *fields])


# Who is told -------------------------------------------------------------------------------------


def tender_approvers(tender: Tender) -> list[User]:
    committee = list(tender.phase.programme.steering_committee.filter(is_active=True))
    agency_approvers = list(User.objects.filter(groups__name=Role.APPROVER, agency_id=tender.agency_id, is_active=True))
    return [u for u in committee + agency_approvers if u.pk not in (tender.created_by_id, tender.submitted_by_id)]


def tender_officers(tender: Tender) -> list[User]:
    return list(User.objects.filter(groups__name=Role.PROCUREMENT_OFFICER, agency_id=tender.agency_id, is_active=True))


def interested_vendors(tender: Tender) -> list[User]:
    """Everyone who downloaded the documents, asked a question, or works for a vendor with a bid on it."""
    ids = set(TenderDocumentDownload.objects.filter(tender=tender).values_list("user_id", flat=True))
    ids |= set(Clarification.objects.filter(tender=tender).values_list("asked_by_id", flat=True))
    ids |= set(User.objects.filter(vendor_membership__vendor__bids__tender=tender).values_list("pk", flat=True))
    return list(User.objects.filter(pk__in=ids, is_active=True))


def _preparers(tender: Tender) -> list[User]:
    ids = {tender.created_by_id, tender.submitted_by_id} - {None}
    return list(User.objects.filter(pk__in=ids))


# Drafting ----------------------------------------------------------------------------------------


def _next_reference(agency, year: int) -> str:
    counter, _created = TenderReferenceCounter.objects.select_for_update().get_or_create(agency=agency, year=year)
    counter.last_number += 1
    counter.save(update_fields=["last_number"])
    return f"{agency.code}-{year}-{counter.last_number:04d}"


def _number(value: Decimal) -> str:
    """90.00 → "90", 12.50 → "12.5"."""
    text = f"{Decimal(value).normalize():f}"
    return text


def _validate_criteria(criteria: list[dict]) -> None:
    """Each criterion complete and valid (names in both languages, a weight), the weights adding up to 100."""
    if not criteria:
        return
    problems: list[str] = []
    for index, item in enumerate(criteria, start=1):
        if not isinstance(item, dict):
            problems.append(_("Criterion %(n)s is not a criterion.") % {"n": index})
            continue
        try:
            weight = Decimal(str(item.get("weight", "")))
        except ArithmeticError:
            weight = None
        candidate = TenderCriterion(
            name_en=str(item.get("name_en") or "").strip(),
            name_ar=str(item.get("name_ar") or "").strip(),
            weight=weight,
        )
        try:
            candidate.clean_fields(exclude=["tender", "description_en", "description_ar", "order"])
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                label = TenderCriterion._meta.get_field(field).verbose_name
                problems.extend(f"{_('Criterion %(n)s') % {'n': index}} — {label}: {m}" for m in messages)
    if problems:
        raise ValidationError({"criteria": problems})
    total = sum((Decimal(str(c["weight"])) for c in criteria), Decimal("0"))
    if total != 100:
        raise ValidationError(
            {"criteria": _("The criteria weights must add up to 100 (now %(total)s).") % {"total": _number(total)}}
        )


def _replace_criteria(tender: Tender, criteria: list[dict]) -> None:
    tender.criteria.all().delete()
    for index, item in enumerate(criteria, start=1):
        criterion = TenderCriterion(
            tender=tender,
            order=index,
            name_en=item["name_en"],
            name_ar=item["name_ar"],
            description_en=item.get("description_en", ""),
            description_ar=item.get("description_ar", ""),
            weight=Decimal(str(item["weight"])),
        )
        criterion.full_clean()
        criterion.save()


def _criteria_snapshot(tender: Tender) -> list[dict]:
    return [
        {"name_en": c.name_en, "name_ar": c.name_ar, "weight": str(c.weight)}
        for c in tender.criteria.order_by("order", "id")
    ]


@transaction.atomic
def tender_create(*, actor, phase: Phase, data: dict[str, Any], criteria: list[dict] | None = None) -> Tender:
    require_perm(actor, "procurement.add_tender")
    if actor.agency_id is None:
        raise PermissionDenied("an officer without an agency cannot prepare tenders")
    tender = Tender(phase=phase, agency_id=actor.agency_id, created_by=actor)
    for name in TENDER_FIELDS:
        if name in data:
            setattr(tender, name, data[name])
    tender.reference = "PENDING"
    tender.full_clean(exclude=["reference"])
    _validate_criteria(criteria or [])
    year = timezone.localtime(_now()).year
    tender.reference = _next_reference(tender.agency, year)
    tender.save()
    _replace_criteria(tender, criteria or [])
    audit_event_append(
        action="tender.created",
        actor=actor,
        obj=tender,
        payload={"after": model_snapshot(tender), "criteria": _criteria_snapshot(tender)},
    )
    return tender


@transaction.atomic
def tender_update(*, actor, tender: Tender, data: dict[str, Any], criteria: list[dict] | None = None) -> Tender:
    tender = _locked(tender)
    require_perm(actor, "procurement.change_tender", tender)
    if tender.status != TenderStatus.DRAFT:
        raise _refuse_state(tender, _("edited (only a draft can be edited; use an addendum)"))
    before = model_snapshot(tender)
    before_criteria = _criteria_snapshot(tender)
    for name in TENDER_FIELDS:
        if name in data:
            setattr(tender, name, data[name])
    tender.full_clean()
    if criteria is not None:
        _validate_criteria(criteria)
    tender.save()
    if criteria is not None:
        _replace_criteria(tender, criteria)
    audit_model_saved(instance=tender, before=before, actor=actor, action_prefix="tender")
    after_criteria = _criteria_snapshot(tender)
    if after_criteria != before_criteria:
        audit_event_append(
            action="tender.criteria_changed",
            actor=actor,
            obj=tender,
            payload={"before": before_criteria, "after": after_criteria},
        )
    return tender


def _delete_files(documents: list[TenderDocument]) -> None:
    """Remove files written by a transaction that is being rolled back (storage is not transactional)."""
    for document in documents:
        document.file.storage.delete(document.file.name)


def _store_document(*, actor, tender: Tender, uploaded_file, title: str, addendum=None) -> TenderDocument:
    facts = inspect_upload(uploaded_file)
    document = TenderDocument(
        tender=tender,
        addendum=addendum,
        title=title or uploaded_file.name,
        original_name=(uploaded_file.name or "")[:255],
        content_type=facts.content_type,
        size=facts.size,
        sha256=facts.sha256,
        uploaded_by=actor,
    )
    document.file.save("upload", uploaded_file, save=False)
    try:
        document.save()
    except Exception:
        _delete_files([document])
        raise
    audit_event_append(
        action="tender.document_added",
        actor=actor,
        obj=tender,
        payload={
            "document_id": document.pk,
            "title": document.title,
            "file_name": document.original_name,
            "content_type": document.content_type,
            "size": document.size,
            "sha256": document.sha256,
            "addendum": addendum.number if addendum else None,
        },
    )
    return document


@transaction.atomic
def tender_document_add(*, actor, tender: Tender, uploaded_file, title: str) -> TenderDocument:
    tender = _locked(tender)
    require_perm(actor, "procurement.change_tender", tender)
    if tender.status != TenderStatus.DRAFT:
        raise _refuse_state(tender, _("given new documents outside an addendum"))
    return _store_document(actor=actor, tender=tender, uploaded_file=uploaded_file, title=title)


@transaction.atomic
def tender_document_download_record(*, user, document: TenderDocument) -> None:
    """Remember who downloaded what, so that they hear about every addendum."""
    if user is None or not user.is_authenticated:
        return
    TenderDocumentDownload.objects.get_or_create(
        document=document, user=user, defaults={"tender_id": document.tender_id}
    )


@transaction.atomic
def tender_document_integrity_failure_record(*, user, document: TenderDocument, problem: str, found: str) -> None:
    """A stored document is missing or no longer the one published: record it and tell the agency."""
    tender = document.tender
    audit_event_append(
        action="tender.document_integrity_failed",
        actor=user,
        obj=document,
        payload={
            "document_id": document.pk,
            "file": document.file.name,
            "problem": problem,
            "expected_sha256": document.sha256,
            "found_sha256": found,
        },
    )
    notify(
        recipients=tender_officers(tender),
        kind="document.integrity_failed",
        tender=tender,
        context={"title": document.title},
    )


# Transitions -------------------------------------------------------------------------------------


@transaction.atomic
def tender_submit_for_approval(*, actor, tender: Tender) -> Tender:
    tender = _locked(tender)
    require_perm(actor, "procurement.submit_tender", tender)
    from procurement.opening_services import opening_committee_errors

    problems = [*tender.readiness_errors(), *opening_committee_errors(tender)]
    if tender.status == TenderStatus.DRAFT and problems:
        raise ActionRefused(" ".join(str(p) for p in problems))
    source, target = _transition(tender, tender.submit_for_approval, _("submitted for approval"), by=actor)
    _save_state(tender, "submitted_by", "return_comments")
    _record(tender, actor=actor, name="submitted_for_approval", source=source, target=target)
    notify(recipients=tender_approvers(tender), kind="tender.submitted", tender=tender)
    return tender


@_atomic_recording_refusals
def tender_approve(*, actor, tender: Tender) -> Tender:
    """The steering committee approves: the tender is published at once, by the server's clock, and its
    sealing key is made. ``tender.recovery_share`` then holds the recovery share, to be shown once."""
    tender = _locked(tender)
    preparers = (tender.created_by_id, tender.submitted_by_id)
    if tender.status == TenderStatus.PENDING_APPROVAL and actor is not None and actor.pk in preparers:
        raise _RecordedRefusal(
            _("You prepared or submitted this tender, so someone else must approve it."),
            tender=tender,
            actor=actor,
            action="tender.approval_refused",
            payload={"reason": "four eyes"},
        )
    require_perm(actor, "procurement.approve_tender", tender)
    now = _now()
    if tender.status == TenderStatus.PENDING_APPROVAL:
        errors = tender.deadline_errors(now=now)
        if errors:
            raise ActionRefused(
                _("It cannot be published with these deadlines: %(problems)s Return it to the officer to fix them.")
                % {"problems": " ".join(str(m) for messages in errors.values() for m in messages)}
            )
    source, target = _transition(tender, tender.approve_and_publish, _("approved"), by=actor, now=now)
    _save_state(tender, "approved_by", "published_at")
    _record(tender, actor=actor, name="approved_and_published", source=source, target=target)
    from procurement.opening_services import tender_key_create

    # Shown once to the approver for the agency's offline safe; never stored (see opening_services).
    tender.recovery_share = tender_key_create(actor=actor, tender=tender)
    notify(recipients=_preparers(tender) + tender_officers(tender), kind="tender.published", tender=tender)
    return tender


@transaction.atomic
def tender_return(*, actor, tender: Tender, comments: str) -> Tender:
    tender = _locked(tender)
    require_perm(actor, "procurement.approve_tender", tender)
    comments = (comments or "").strip()
    if not comments:
        raise ValidationError({"comments": _("Say what must change before the tender can be approved.")})
    source, target = _transition(tender, tender.return_to_draft, _("returned"), by=actor, comments=comments)
    _save_state(tender, "return_comments")
    _record(tender, actor=actor, name="returned", source=source, target=target, comments=comments)
    notify(recipients=_preparers(tender), kind="tender.returned", tender=tender, context={"comments": comments})
    return tender


def _close(tender: Tender, *, actor, now: datetime.datetime) -> Tender:
    source, target = _transition(tender, tender.close, _("closed"), now=now)
    _save_state(tender, "closed_at")
    _record(tender, actor=actor, name="closed", source=source, target=target, deadline=tender.submission_deadline)
    notify(recipients=_preparers(tender) + tender_officers(tender), kind="tender.closed", tender=tender)
    return tender


@transaction.atomic
def tender_close(*, actor, tender: Tender) -> Tender:
    """An officer closes a tender whose submission deadline has passed (the scheduler also does)."""
    tender = _locked(tender)
    require_perm(actor, "procurement.close_tender", tender)
    now = _now()
    if tender.status == TenderStatus.PUBLISHED and not tender.submission_deadline_passed(now):
        raise ActionRefused(_("Bids are accepted until the submission deadline; it cannot be closed before."))
    return _close(tender, actor=actor, now=now)


def _end_with_reason(
    *,
    actor,
    tender: Tender,
    reason: str,
    permission: str,
    missing: str,
    transition: str,
    action: str,
    reason_field: str,
    name: str,
) -> Tender:
    """Cancel or declare unsuccessful: both end the tender with a reason that bidders are told."""
    tender = _locked(tender)
    require_perm(actor, permission, tender)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": missing})
    source, target = _transition(tender, getattr(tender, transition), action, reason=reason)
    _save_state(tender, reason_field)
    _record(tender, actor=actor, name=name, source=source, target=target, reason=reason)
    notify(
        recipients=_preparers(tender) + interested_vendors(tender),
        kind=f"tender.{name}",
        tender=tender,
        context={"reason": reason},
    )
    return tender


@transaction.atomic
def tender_cancel(*, actor, tender: Tender, reason: str) -> Tender:
    return _end_with_reason(
        actor=actor,
        tender=tender,
        reason=reason,
        permission="procurement.cancel_tender",
        missing=_("Give the reason for the cancellation; bidders are told it."),
        transition="cancel",
        action=_("cancelled"),
        reason_field="cancellation_reason",
        name="cancelled",
    )


@transaction.atomic
def tender_mark_unsuccessful(*, actor, tender: Tender, reason: str) -> Tender:
    return _end_with_reason(
        actor=actor,
        tender=tender,
        reason=reason,
        permission="procurement.mark_unsuccessful_tender",
        missing=_("Say why the tender is unsuccessful (e.g. fewer bids than the minimum)."),
        transition="mark_unsuccessful",
        action=_("declared unsuccessful"),
        reason_field="unsuccessful_reason",
        name="unsuccessful",
    )


class DeadlineRun(list[str]):
    """What one run of the scheduler did. The list itself holds the references of the tenders it closed or
    whose award it made final, as callers have always read it; the vendors it suspended for expired mandatory
    documents and those whose debarment ended ride along for the summary."""

    def __init__(
        self,
        references: Iterable[str] = (),
        *,
        suspended_vendors: Iterable[Any] = (),
        debarments_ended: Iterable[Any] = (),
    ) -> None:
        super().__init__(references)
        self.suspended_vendors = list(suspended_vendors)
        self.debarments_ended = list(debarments_ended)


def advance_deadlines(*, now: datetime.datetime | None = None) -> DeadlineRun:
    """Perform every time-driven transition that is due (closing at the submission deadline, making awards
    final at the end of their standstill, marking overdue milestones, suspending vendors whose mandatory
    documents expired and ending debarments whose period is over); return the tender references, with the
    vendors. Safe to run again and concurrently.

    Each tender is closed in its own transaction under a row lock (rows another worker holds are
    skipped, not waited for); the state and the deadline are checked again under the lock. The later steps
    do the same for their own rows, so a failure in one step never undoes what an earlier one committed.
    Vendors are judged by the calendar day of ``now`` in the display time zone.
    """
    now = now or _now()
    closed: list[str] = []
    candidate_ids = list(
        Tender.objects.due_for_closing(now).order_by("submission_deadline").values_list("pk", flat=True)
    )
    for pk in candidate_ids:
        with transaction.atomic():
            tender = (
                Tender.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("phase__programme", "agency")
                .filter(pk=pk, status=TenderStatus.PUBLISHED, submission_deadline__lte=now)
                .first()
            )
            if tender is None:
                continue
            _close(tender, actor=None, now=now)
            closed.append(tender.reference)
    import zoneinfo

    from django.conf import settings

    from contracts.monitoring import mark_overdue
    from procurement.evaluation_services import finalise_awards
    from vendors.services import end_expired_debarments, suspend_vendors_with_expired_documents

    finalised = finalise_awards(now=now)
    mark_overdue(now=now)
    today = timezone.localdate(now, zoneinfo.ZoneInfo(settings.DISPLAY_TIME_ZONE))
    suspended = suspend_vendors_with_expired_documents(today)
    ended = end_expired_debarments(today)
    # The desk's items unanswered past their response-time target go to their agency's supervisors (each in its
    # own transaction); a failure there is logged and never keeps the tenders' deadlines from being kept.
    try:
        from desk.services import escalate_overdue

        escalate_overdue(now=now)
    except Exception:
        import logging

        logging.getLogger(__name__).exception("Escalating overdue desk items failed")
    # The API's stored answers to idempotent requests past their retention (by the wall clock they were stored
    # with): housekeeping in batches, which never keeps the deadlines from being kept.
    try:
        from api.idempotency import purge_expired_idempotency_records

        purge_expired_idempotency_records()
    except Exception:
        import logging

        logging.getLogger(__name__).exception("Purging expired idempotency records failed")
    return DeadlineRun(closed + finalised, suspended_vendors=suspended, debarments_ended=ended)


# Clarifications ----------------------------------------------------------------------------------


@_atomic_recording_refusals
def clarification_ask(*, actor, tender: Tender, question: str) -> Clarification:
    tender = _locked(tender)
    require_perm(actor, "procurement.ask_clarification", tender)
    question = (question or "").strip()
    if not question:
        raise ValidationError({"question": _("Write your question.")})
    now = _now()
    if not tender.questions_open(now):
        raise _RecordedRefusal(
            _("Questions on this tender closed at its clarification deadline."),
            tender=tender,
            actor=actor,
            action="tender.question_refused",
            payload={"reason": "clarification deadline", "deadline": tender.clarification_deadline},
        )
    number = (tender.clarifications.aggregate(n=Max("number"))["n"] or 0) + 1
    clarification = Clarification.objects.create(tender=tender, number=number, question=question, asked_by=actor)
    audit_event_append(
        action="tender.question_asked",
        actor=actor,
        obj=tender,
        payload={"number": number, "question": question},
    )
    notify(recipients=tender_officers(tender), kind="clarification.asked", tender=tender, context={"number": number})
    return clarification


@transaction.atomic
def clarification_answer(*, actor, clarification: Clarification, answer: str) -> Clarification:
    tender = _locked(clarification.tender_id)
    clarification = Clarification.objects.select_for_update().get(pk=clarification.pk)
    require_perm(actor, "procurement.answer_clarification", tender)
    answer = (answer or "").strip()
    if not answer:
        raise ValidationError({"answer": _("Write the answer.")})
    if tender.status != TenderStatus.PUBLISHED or tender.submission_deadline_passed(_now()):
        raise ActionRefused(_("Answers can be published only while the tender is open for bids."))
    before = {"answer": clarification.answer}
    clarification.answer = answer
    clarification.answered_by = actor
    clarification.answered_at = _now()
    clarification.save(update_fields=["answer", "answered_by", "answered_at"])
    audit_event_append(
        action="tender.question_answered",
        actor=actor,
        obj=tender,
        payload={"number": clarification.number, "before": before, "after": {"answer": answer}},
    )
    notify(
        recipients=interested_vendors(tender),
        kind="clarification.answered",
        tender=tender,
        context={"number": clarification.number},
    )
    return clarification


# Addenda -----------------------------------------------------------------------------------------

ADDENDUM_DEADLINES = (
    ("new_clarification_deadline", "clarification_deadline"),
    ("new_submission_deadline", "submission_deadline"),
    ("new_opening_time", "opening_time"),
)


def _check_addendum(tender: Tender, addendum: Addendum, now: datetime.datetime) -> None:
    errors: dict[str, list] = {}
    for new_field, current_field in ADDENDUM_DEADLINES:
        new_value = getattr(addendum, new_field)
        if new_value is not None and new_value < getattr(tender, current_field):
            errors.setdefault(new_field, []).append(_("An addendum can extend a deadline, never shorten it."))
    if addendum.new_criteria is not None:
        try:
            _validate_criteria(addendum.new_criteria)
            if not addendum.new_criteria:
                raise ValidationError({"new_criteria": _("Give at least one criterion.")})
        except ValidationError as error:
            errors.setdefault("new_criteria", []).extend(error.messages)
        except (KeyError, TypeError, ValueError, ArithmeticError):
            errors.setdefault("new_criteria", []).append(
                _("Each criterion needs a name in both languages and a weight.")
            )
    if errors:
        raise ValidationError(errors)
    if tender.status != TenderStatus.PUBLISHED or tender.submission_deadline_passed(now):
        raise ActionRefused(_("Addenda can be issued only while the tender is open for bids."))


@transaction.atomic
def addendum_create(*, actor, tender: Tender, data: dict[str, Any], files: Iterable = ()) -> Addendum:
    """Prepare an addendum; it is issued at once unless it changes the value or the criteria."""
    tender = _locked(tender)
    require_perm(actor, "procurement.add_addendum", tender)
    number = (tender.addenda.aggregate(n=Max("number"))["n"] or 0) + 1
    addendum = Addendum(tender=tender, number=number, created_by=actor)
    for name in (
        "summary_en", "summary_ar", "new_clarification_deadline", "new_submission_deadline", "new_opening_time",
        "new_estimated_value", "new_criteria",
    ):  # fmt: skip
        if name in data:
            setattr(addendum, name, data[name])
    addendum.full_clean(exclude=["status"])
    now = _now()
    _check_addendum(tender, addendum, now)
    files = list(files)
    for _title, uploaded in files:
        inspect_upload(uploaded)  # refuse a bad file before anything is written
    addendum.save()
    stored: list[TenderDocument] = []
    try:
        for title, uploaded in files:
            stored.append(
                _store_document(actor=actor, tender=tender, uploaded_file=uploaded, title=title, addendum=addendum)
            )
    except Exception:
        _delete_files(stored)
        raise
    audit_event_append(
        action="tender.addendum_prepared",
        actor=actor,
        obj=addendum,
        payload={"number": number, "after": model_snapshot(addendum)},
    )
    if addendum.needs_approval:
        addendum.submit_for_approval()
        addendum.save(update_fields=["status"])
        notify(
            recipients=tender_approvers(tender),
            kind="addendum.pending_approval",
            tender=tender,
            context={"number": number},
        )
        return addendum
    return _issue(tender, addendum, actor=actor, now=now)


@transaction.atomic
def addendum_approve(*, actor, addendum: Addendum) -> Addendum:
    tender = _locked(addendum.tender_id)
    addendum = Addendum.objects.select_for_update().get(pk=addendum.pk)
    if actor is not None and actor.pk == addendum.created_by_id:
        raise ActionRefused(_("You prepared this addendum, so someone else must approve it."))
    require_perm(actor, "procurement.approve_addendum", addendum)
    if addendum.status != AddendumStatus.PENDING_APPROVAL:
        raise ActionRefused(_("This addendum is not waiting for approval."))
    now = _now()
    _check_addendum(tender, addendum, now)
    return _issue(tender, addendum, actor=actor, now=now, approved_by=actor)


def _issue(tender: Tender, addendum: Addendum, *, actor, now, approved_by=None) -> Addendum:
    before = model_snapshot(tender)
    before_criteria = _criteria_snapshot(tender)
    addendum.issue(now=now, approved_by=approved_by)
    addendum.save(update_fields=["status", "issued_at", "approved_by"])
    changed: list[str] = []
    for new_field, current_field in ADDENDUM_DEADLINES:
        value = getattr(addendum, new_field)
        if value is not None:
            setattr(tender, current_field, value)
            changed.append(current_field)
    if addendum.new_estimated_value is not None:
        tender.estimated_value = addendum.new_estimated_value
        changed.append("estimated_value")
    if changed:
        tender.full_clean()
        tender.save(update_fields=[*changed, "updated_at"])
    if addendum.new_criteria is not None:
        _replace_criteria(tender, addendum.new_criteria)
    # Documents of the addendum replace the earlier documents with the same title.
    for document in addendum.documents.all():
        tender.documents.filter(title=document.title, superseded_by__isnull=True).exclude(pk=document.pk).update(
            superseded_by=document
        )
    material = addendum.needs_approval or addendum.documents.exists()
    if material:
        from procurement.bid_services import bids_require_reconfirmation

        bids_require_reconfirmation(tender=tender, addendum=addendum, actor=actor)
    audit_event_append(
        action="tender.addendum_issued",
        actor=actor,
        obj=tender,
        payload={
            "number": addendum.number,
            "material": material,
            "approved_by": approved_by.pk if approved_by else None,
            "changes": {k: v for k, v in model_snapshot(tender).items() if before.get(k) != v and k in changed},
            "criteria": (
                {"before": before_criteria, "after": _criteria_snapshot(tender)} if addendum.new_criteria else None
            ),
        },
    )
    notify(
        recipients=interested_vendors(tender) + tender_officers(tender),
        kind="addendum.issued",
        tender=tender,
        context={"number": addendum.number},
    )
    return addendum
