"""The officers' and committee's side of sealed bids: the opening committee, the bid register, the opening
ceremony, the opening record (page and CSV), and the opened envelopes and documents.

Before a bid is opened nobody may read it, whatever their roles: every page or download that would show
sealed data refuses with 403 and records the attempt (``opening_services.sealed_access_refused``). The opened
envelopes and documents are read through ``opened_envelope`` and ``opened_bid_file``, which the JSON API calls too
(``api/bid_views.py``), so that both answer the same people and record the same refusals.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import PersonalKey
from core.exceptions import ActionRefused
from core.i18n import is_arabic
from core.pagination import keyset_page
from core.uploads import open_hashed
from core.views_support import require as _require
from core.views_support import run_service as _run_service
from procurement import opening_services, tender_services
from procurement.models import Bid, BidEnvelope, BidFile, BidOpening, OpeningCommitteeMember, Tender
from procurement.models.bids import BidStatus, EnvelopeKind, EnvelopeState, OpeningStatus
from procurement.models.tenders import TenderStatus
from procurement.opening_forms import CommitteeMemberForm, OpeningConfirmForm
from procurement.selectors import registered_bids

PAGE_SIZE = 50
#: A bid in these states has never been opened: its envelopes and documents are sealed.
UNOPENED_STATES = frozenset({BidStatus.DRAFT, BidStatus.SUBMITTED, BidStatus.NEEDS_RECONFIRMATION, BidStatus.WITHDRAWN})
#: Tender states in which an opening ceremony can take place (technical, then financial during evaluation).
OPENABLE_STATES = frozenset({TenderStatus.PUBLISHED, TenderStatus.CLOSED, TenderStatus.EVALUATION})
#: Characters that make a spreadsheet read a cell as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _tender(pk: int) -> Tender:
    return get_object_or_404(Tender.objects.select_related("agency"), pk=pk)


def _bid(pk: int, bid_pk: int) -> Bid:
    return get_object_or_404(Bid.objects.select_related("tender__agency", "vendor"), pk=bid_pk, tender_id=pk)


class SealedAccessRefused(Exception):
    """An attempt to read sealed data, already recorded in the audit log: the caller answers 403 (the web with
    ``sealed_refused.html``, the API with a problem)."""

    def __init__(self, tender: Tender):
        super().__init__(tender.pk)
        self.tender = tender


def sealed_access(request, obj, what: str) -> SealedAccessRefused:
    """Record the attempt (``opening_services.sealed_access_refused``); return the exception that answers it.

    ``what`` goes to the audit log as it is (not translated), so that the log reads the same in any language.
    """
    opening_services.sealed_access_refused(user=request.user, obj=obj, what=what, request=request)
    return SealedAccessRefused(obj if isinstance(obj, Tender) else obj.tender)


def _sealed_page(request, tender: Tender):
    response = render_page(request, "procurement/opening/sealed_refused.html", {"tender": tender}, status=403)
    patch_cache_control(response, private=True, no_store=True)
    return response


def _refuse_sealed(request, obj, what: str):
    """Record the attempt and answer 403: sealed data is shown to nobody before its opening."""
    return _sealed_page(request, sealed_access(request, obj, what).tender)


def readable_bid(request, pk: int, bid_pk: int, what: str) -> Bid:
    """The bid, or — for a bid that does not exist on this tender — the same recorded refusal a sealed one gets
    (``SealedAccessRefused``), so that nobody can count a tender's bids by trying numbers before the opening."""
    try:
        return _bid(pk, bid_pk)
    except Http404:
        raise sealed_access(request, _tender(pk), f"{what} (no such bid)") from None


def render_page(request, template: str, context: dict, *, status: int = 200):
    """Render a sealed-bid page; the breadcrumbs link to the tender page for those who may open it."""
    tender = context["tender"]
    if request.user.has_perm("procurement.view_tender_internals", tender):
        context = {**context, "tender_url": tender.get_absolute_url()}
    return render(request, template, context, status=status)


def _completed_openings(tender: Tender) -> list[BidOpening]:
    return list(
        BidOpening.objects.filter(tender=tender, status=OpeningStatus.COMPLETED)
        .select_related("first_member", "second_member")
        .order_by("completed_at", "id")
    )


def may_see_opening_record(user, tender: Tender) -> bool:
    """The tender's internal users, its opening committee, and the people of vendors that bid on it."""
    if user.has_perm("procurement.view_bids", tender):
        return True
    # Bidders: vendors whose bid was submitted and opened (not a draft, nor one withdrawn before the deadline).
    return Bid.objects.filter(
        tender=tender,
        vendor__memberships__user=user,
        status__in=[s for s in BidStatus.values if s not in UNOPENED_STATES],
    ).exists()


# The opening committee ----------------------------------------------------------------------------


def _committee_page(request, tender: Tender, *, form=None):
    can_manage = tender.status == TenderStatus.DRAFT and request.user.has_perm(
        "procurement.manage_opening_committee", tender
    )
    members = list(tender.opening_committee.select_related("user", "nominated_by").order_by("nominated_at", "id"))
    active_keys = {
        key.user_id: key for key in PersonalKey.objects.active().filter(user__in=[m.user_id for m in members])
    }
    rows = [{"member": m, "key": active_keys.get(m.user_id)} for m in members]
    if can_manage and form is None:
        form = CommitteeMemberForm(tender=tender)
    context = {
        "tender": tender,
        "rows": rows,
        "form": form if can_manage else None,
        "can_manage": can_manage,
        "problems": opening_services.opening_committee_errors(tender),
        "is_draft": tender.status == TenderStatus.DRAFT,
    }
    return render_page(request, "procurement/opening/committee.html", context)


@login_required
def opening_committee(request, pk: int):
    tender = _tender(pk)
    _require(request, "procurement.view_tender_internals", tender)
    if request.method != "POST":
        return _committee_page(request, tender)
    _require(request, "procurement.manage_opening_committee", tender)
    form = CommitteeMemberForm(request.POST, tender=tender)
    if form.is_valid():
        member = _run_service(
            form,
            lambda: opening_services.opening_committee_add(
                actor=request.user, tender=tender, user=form.cleaned_data["user"]
            ),
        )
        if member:
            messages.success(
                request, _("%(name)s was added to the opening committee.") % {"name": member.user.full_name}
            )
            return redirect("procurement:opening_committee", tender.pk)
    return _committee_page(request, tender, form=form)


@login_required
@require_POST
def opening_committee_remove(request, pk: int, member_pk: int):
    tender = _tender(pk)
    _require(request, "procurement.manage_opening_committee", tender)
    member = get_object_or_404(OpeningCommitteeMember.objects.select_related("user"), pk=member_pk, tender=tender)
    try:
        opening_services.opening_committee_remove(actor=request.user, tender=tender, member=member)
    except ActionRefused as refused:
        messages.error(request, refused.message)
    else:
        messages.success(
            request, _("%(name)s was removed from the opening committee.") % {"name": member.user.full_name}
        )
    return redirect("procurement:opening_committee", tender.pk)


# The bid register ---------------------------------------------------------------------------------


@login_required
def bid_register(request, pk: int):
    """Who bid, when, which version, and the SHA-256 of each sealed envelope: metadata only."""
    tender = _tender(pk)
    _require(request, "procurement.view_bids", tender)
    bids = registered_bids(tender)
    page = keyset_page(
        bids,
        key="id",
        after=request.GET.get("after"),
        before=request.GET.get("before"),
        size=PAGE_SIZE,
        to_python=int,
    )
    rows = []
    for bid in page.items:
        current = [e for e in bid.envelopes.all() if e.version.number == bid.version]
        rows.append({"bid": bid, "envelopes": current, "opened": bid.status not in UNOPENED_STATES})
    return render_page(
        request,
        "procurement/opening/bid_register.html",
        {"tender": tender, "page": page, "rows": rows, "arabic": is_arabic()},
    )


# Opened envelopes and documents -------------------------------------------------------------------


@dataclass(frozen=True)
class OpenedEnvelope:
    """An opened (or tampered) envelope as the envelope page shows it: its decrypted ``content`` ({} unless it
    matched its receipt), the technical ``answers`` and ``files`` (each with its title and file name restored at
    the opening, whether it was opened, and the stored ``BidFile``)."""

    bid: Bid
    envelope: BidEnvelope
    content: dict
    answers: list[dict]
    files: list[dict]


def opened_envelope(request, pk: int, bid_pk: int, kind: str) -> OpenedEnvelope:
    """One envelope of a bid of tender ``pk`` after its opening, for the envelope page and the API.

    Raises ``SealedAccessRefused`` (the attempt recorded) for no such bid, a bid never opened or an envelope still
    sealed; ``Http404`` for an unknown kind or a missing envelope; ``PermissionDenied`` unless the rule
    ``procurement.read_bid_content`` lets the person read the bid.
    """
    if kind not in EnvelopeKind.values:
        raise Http404
    what = f"{kind} envelope"
    bid = readable_bid(request, pk, bid_pk, what)
    if bid.status in UNOPENED_STATES:
        raise sealed_access(request, bid, what)
    envelope = BidEnvelope.objects.filter(bid=bid, version__number=bid.version, kind=kind).first()
    if envelope is None:
        raise Http404
    if envelope.state == EnvelopeState.SEALED:
        raise sealed_access(request, bid, what)
    _require(request, "procurement.read_bid_content", bid)
    content = envelope.content if envelope.state == EnvelopeState.OPENED and isinstance(envelope.content, dict) else {}
    files = []
    if kind == EnvelopeKind.TECHNICAL:
        listed = [item for item in content.get("files", []) if isinstance(item, dict)]
        stored = {
            f.label: f
            for f in BidFile.objects.filter(bid=bid, label__in=[item.get("label") for item in listed]).only(
                "id", "label", "opened", "opened_sha256", "bid_id", "title_token", "name_token"
            )
        }
        for item in listed:
            stored_file = stored.get(item.get("label"))
            # The names were sealed apart from the list (``BidFile.names_sealed``) and restored at the opening.
            named = {
                **item,
                "title": stored_file.title if stored_file else item.get("label"),
                "name": stored_file.original_name if stored_file else "",
            }
            files.append({"item": named, "opened": bool(stored_file and stored_file.opened), "file": stored_file})
    answers = content.get("answers", {}) if isinstance(content.get("answers"), dict) else {}
    return OpenedEnvelope(
        bid=bid,
        envelope=envelope,
        content=content,
        answers=[value for value in answers.values() if isinstance(value, dict)],
        files=files,
    )


def opened_bid_file(request, pk: int, bid_pk: int, **lookup) -> BidFile:
    """A document of a bid of tender ``pk`` (found by ``lookup``: its label on the web, its id in the API) once
    opened, for the download. Raises ``SealedAccessRefused`` (the attempt recorded) for no such bid or document, a
    bid never opened or a document not opened (still sealed, or not matching its receipt at the opening);
    ``PermissionDenied`` unless the rule ``procurement.read_bid_content`` lets the person read the bid."""
    what = "bid document"
    bid = readable_bid(request, pk, bid_pk, what)
    bid_file = BidFile.objects.filter(bid=bid, **lookup).first()
    if bid_file is None or bid.status in UNOPENED_STATES or not bid_file.opened:
        raise sealed_access(request, bid, what)
    _require(request, "procurement.read_bid_content", bid)
    return bid_file


@login_required
def envelope_detail(request, pk: int, bid_pk: int, kind: str):
    try:
        opened = opened_envelope(request, pk, bid_pk, kind)
    except SealedAccessRefused as refused:
        return _sealed_page(request, refused.tender)
    bid = opened.bid
    response = render_page(
        request,
        "procurement/opening/envelope.html",
        {
            "tender": bid.tender,
            "bid": bid,
            "envelope": opened.envelope,
            "content": opened.content,
            "answers": opened.answers,
            "files": opened.files,
            "is_technical": kind == EnvelopeKind.TECHNICAL,
        },
    )
    patch_cache_control(response, private=True, no_store=True)
    return response


@login_required
def bid_file_download(request, pk: int, bid_pk: int, label: str):
    try:
        bid_file = opened_bid_file(request, pk, bid_pk, label=label)
    except SealedAccessRefused as refused:
        return _sealed_page(request, refused.tender)
    # The bytes sent are the bytes hashed: a document altered since its opening is not served as the bid's.
    handle, found = open_hashed(bid_file.opened)
    if found is None or found != bid_file.opened_sha256:
        if handle is not None:
            handle.close()
        opening_services.bid_file_integrity_failure_record(user=request.user, bid_file=bid_file, found=found)
        response = render(
            request,
            "procurement/opening/document_altered.html",
            {"tender": bid_file.bid.tender, "found": found, "expected": bid_file.opened_sha256},
            status=409,
        )
        patch_cache_control(response, private=True, no_store=True)
        return response
    response = FileResponse(
        handle, as_attachment=True, filename=bid_file.original_name, content_type=bid_file.content_type
    )
    response["X-Content-SHA256"] = found
    patch_cache_control(response, private=True, no_store=True)
    return response


# The opening ceremony -----------------------------------------------------------------------------


def _waiting_opening(tender: Tender, now) -> BidOpening | None:
    opening = (
        BidOpening.objects.filter(tender=tender, status=OpeningStatus.WAITING)
        .select_related("first_member")
        .defer("pending_shares")
        .first()
    )
    return opening if opening is not None and opening.is_waiting(now) else None


def _offers_recovery(user, tender: Tender, waiting: BidOpening | None) -> bool:
    """An officer of the agency may complete, with the recovery share, an opening another member started."""
    return (
        waiting is not None
        and waiting.first_member_id != user.pk
        and user.has_perm("procurement.change_tender", tender)
    )


@login_required
def opening_ceremony(request, pk: int):
    tender = _tender(pk)
    user = request.user
    now = tender_services._now()
    waiting = _waiting_opening(tender, now)
    offer_recovery = _offers_recovery(user, tender, waiting)
    if not (user.has_perm("procurement.open_bids", tender) or offer_recovery):
        raise PermissionDenied
    form = OpeningConfirmForm(request.POST if request.method == "POST" else None, offer_recovery=offer_recovery)
    if request.method == "POST" and form.is_valid():
        try:
            opening = opening_services.opening_confirm(
                actor=user,
                tender=tender,
                password=form.cleaned_data["password"],
                recovery_share=form.cleaned_data.get("recovery_share", ""),
            )
        except ActionRefused as refused:
            messages.error(request, refused.message)
            return redirect("procurement:opening_ceremony", tender.pk)
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                for field, errors in error.error_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                form.add_error(None, error)
        else:
            if opening.status == OpeningStatus.COMPLETED:
                messages.success(request, _("The bids were opened. The opening record is published below."))
                return redirect("procurement:opening_record", tender.pk)
            messages.success(
                request,
                _("Your confirmation is recorded. A second member must confirm before %(time)s.")
                % {"time": timezone.localtime(opening.expires_at).strftime("%Y-%m-%d %H:%M:%S %Z")},
            )
            return redirect("procurement:opening_ceremony", tender.pk)
    deadline_passed = tender.submission_deadline_passed(now)
    members = list(tender.opening_committee.select_related("user").order_by("nominated_at", "id"))
    context = {
        "tender": tender,
        "now": now,
        "deadline_passed": deadline_passed,
        "waiting": waiting,
        "waiting_for_me": waiting is not None and waiting.first_member_id == user.pk,
        "members": members,
        "completed": _completed_openings(tender),
        "can_confirm": deadline_passed and tender.status in OPENABLE_STATES,
        "form": form,
        "offer_recovery": offer_recovery,
    }
    response = render_page(request, "procurement/opening/ceremony.html", context)
    patch_cache_control(response, private=True, no_store=True)
    return response


# The opening record -------------------------------------------------------------------------------


def _record_rows(openings: list[BidOpening]) -> list[dict]:
    arabic = is_arabic()
    sections = []
    for opening in openings:
        record = opening.record if isinstance(opening.record, dict) else {}
        bids = []
        for entry in record.get("bids", []):
            if not isinstance(entry, dict):
                continue
            envelopes = []
            for kind in EnvelopeKind:
                result = entry.get(str(kind))
                if isinstance(result, dict):
                    envelopes.append({"kind": kind, "label": kind.label, **result})
            bids.append(
                {
                    "bid_id": entry.get("bid_id"),
                    "bidder": (entry.get("bidder_ar") if arabic else None) or entry.get("bidder", ""),
                    "version": entry.get("version"),
                    "submitted_at": entry.get("submitted_at"),
                    "envelopes": envelopes,
                }
            )
        sections.append(
            {
                "opening": opening,
                "bids": bids,
                "not_reconfirmed": record.get("not_reconfirmed", []),
                "tampered": record.get("tampered", 0),
                "recovery_share_used": record.get("recovery_share_used", False),
            }
        )
    return sections


@login_required
def opening_record(request, pk: int):
    tender = _tender(pk)
    if not may_see_opening_record(request.user, tender):
        raise PermissionDenied
    openings = _completed_openings(tender)
    context = {
        "tender": tender,
        "sections": _record_rows(openings),
        "internal": request.user.has_perm("procurement.view_bids", tender),
    }
    return render_page(request, "procurement/opening/record.html", context)


def _cell(value) -> str:
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


@login_required
def opening_record_csv(request, pk: int):
    tender = _tender(pk)
    openings = _completed_openings(tender)
    if not openings:
        return _refuse_sealed(request, tender, "opening record export")
    if not may_see_opening_record(request.user, tender):
        raise PermissionDenied
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{tender.reference}-opening-record.csv"'
    patch_cache_control(response, private=True, no_store=True)
    response.write("\ufeff")  # so that spreadsheets read the Arabic names as UTF-8
    writer = csv.writer(response)
    writer.writerow(
        [
            _("Opening"),
            _("Opened at"),
            _("Bidder"),
            _("Bid version"),
            _("Submitted at"),
            _("Envelope or document"),
            _("SHA-256"),
            _("Check"),
            _("Problem"),
            _("Total price"),
            _("Currency"),
        ]
    )
    states = {
        "opened": _("matches the receipt"),
        "tampered": _("DOES NOT MATCH the receipt"),
    }
    for section in _record_rows(openings):
        opening = section["opening"]
        for row in section["bids"]:
            prefix = [
                opening.get_stage_display(),
                opening.completed_at.isoformat() if opening.completed_at else "",
                row["bidder"],
                row["version"],
                row["submitted_at"],
            ]
            for envelope in row["envelopes"]:
                opened = envelope.get("state") == "opened"
                priced = envelope["kind"] == EnvelopeKind.FINANCIAL and opened
                writer.writerow(
                    [
                        _cell(v)
                        for v in [
                            *prefix,
                            envelope["label"],
                            envelope.get("sha256", ""),
                            states.get(envelope.get("state"), envelope.get("state", "")),
                            envelope.get("problem", ""),
                            envelope.get("total_price", "") if priced else "",
                            envelope.get("currency", "") if priced else "",
                        ]
                    ]
                )
                for item in envelope.get("files", []):
                    writer.writerow(
                        [
                            _cell(v)
                            for v in [
                                *prefix,
                                _("Document: %(name)s") % {"name": item.get("label", "")},
                                item.get("sha256", ""),
                                states.get(item.get("state"), item.get("state", "")),
                                item.get("problem", ""),
                                "",
                                "",
                            ]
                        ]
                    )
    return response


def tender_opening_links(request, tender: Tender) -> dict:
    """Which sealed-bid pages the tender page links to, for this person and this state."""
    user = request.user
    status = tender.status
    links = {"committee": reverse("procurement:opening_committee", args=[tender.pk])}
    if status not in (TenderStatus.DRAFT, TenderStatus.PENDING_APPROVAL) and user.has_perm(
        "procurement.view_bids", tender
    ):
        links["bid_register"] = reverse("procurement:bid_register", args=[tender.pk])
    if status in OPENABLE_STATES:
        now = tender_services._now()
        waiting = _waiting_opening(tender, now)
        if user.has_perm("procurement.open_bids", tender) or _offers_recovery(user, tender, waiting):
            links["ceremony"] = reverse("procurement:opening_ceremony", args=[tender.pk])
    if BidOpening.objects.filter(tender=tender, status=OpeningStatus.COMPLETED).exists():
        links["record"] = reverse("procurement:opening_record", args=[tender.pk])
        links["record_csv"] = reverse("procurement:opening_record_csv", args=[tender.pk])
    return links
