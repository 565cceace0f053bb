"""The public portal: every agency's published tenders, their documents, questions and feeds.

Only ``Tender.objects.public()`` is ever shown. Any other reference answers the same 404 as one that
does not exist, so that nobody can learn which drafts are in preparation.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, translate_url
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from contracts.models import AmendmentStatus, Contract
from contracts.performance import vendor_scores
from core.exceptions import ActionRefused
from core.i18n import is_arabic
from core.pagination import KeysetPage, keyset_page
from core.uploads import sha256_of_handle
from portal import selectors
from portal.filters import PortalTenderFilter, not_open_for_bids, open_for_bids
from portal.forms import ClarificationQuestionForm
from portal.guides import GUIDE_SLUGS, GUIDES
from procurement.bid_views import tender_bid_box
from procurement.models import Agency, Programme, Tender, TenderDocument
from procurement.models.tenders import AddendumStatus
from procurement.selectors import programme_timeline
from procurement.tender_services import (
    clarification_ask,
    tender_document_download_record,
    tender_document_integrity_failure_record,
)
from vendors.models import VendorStatus

PAGE_SIZE = 25
#: The agency page shows its latest tenders; the tender list (filtered by the agency) pages through all.
AGENCY_TENDERS = 25
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
_MICROSECOND = datetime.timedelta(microseconds=1)
OG_LOCALES = {"ar": "ar_AR", "en": "en_US"}
#: Long texts the list never shows.
LIST_DEFERRED_FIELDS = (
    "description_en", "description_ar", "method_justification", "return_comments", "cancellation_reason",
    "unsuccessful_reason",
)  # fmt: skip


# The tender list ---------------------------------------------------------------------------------


def _deadline_cursor(tender: Tender) -> str:
    return f"{(tender.submission_deadline - _EPOCH) // _MICROSECOND}.{tender.pk}"


def _parse_deadline_cursor(raw: str | None) -> tuple[datetime.datetime, int] | None:
    try:
        micros, pk = (raw or "").split(".", 1)
        return _EPOCH + datetime.timedelta(microseconds=int(micros)), int(pk)
    except (ValueError, OverflowError):
        return None


def _closing_soonest_page(queryset, *, after: str | None, before: str | None, size: int = PAGE_SIZE) -> KeysetPage:
    """One page ordered by (submission deadline, id): a keyset on both, since many tenders share a deadline.

    Like ``core.pagination.keyset_page``: one query of ``size + 1`` rows, no OFFSET, no COUNT.
    """
    before_key, after_key = _parse_deadline_cursor(before), _parse_deadline_cursor(after)
    if before_key is not None:
        deadline, pk = before_key
        earlier = Q(submission_deadline__lt=deadline) | Q(submission_deadline=deadline, pk__lt=pk)
        rows = list(queryset.filter(earlier).order_by("-submission_deadline", "-pk")[: size + 1])
        more = len(rows) > size
        rows = rows[:size][::-1]
        return KeysetPage(
            items=rows,
            next_cursor=_deadline_cursor(rows[-1]) if rows else None,
            previous_cursor=_deadline_cursor(rows[0]) if rows and more else None,
            is_first=not more,
        )
    if after_key is not None:
        deadline, pk = after_key
        later = Q(submission_deadline__gt=deadline) | Q(submission_deadline=deadline, pk__gt=pk)
        queryset = queryset.filter(later)
    rows = list(queryset.order_by("submission_deadline", "pk")[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    return KeysetPage(
        items=rows,
        next_cursor=_deadline_cursor(rows[-1]) if rows and more else None,
        previous_cursor=_deadline_cursor(rows[0]) if rows and after_key is not None else None,
        is_first=after_key is None,
    )


def tender_list(request):
    """Two lists: tenders open for bids, closing soonest first; then all the others, newest first."""
    now = timezone.now()
    tenders = Tender.objects.public().select_related("agency").defer(*LIST_DEFERRED_FIELDS)
    filterset = PortalTenderFilter(request.GET, queryset=tenders)
    tenders = filterset.qs
    open_page = _closing_soonest_page(
        open_for_bids(tenders, now), after=request.GET.get("open_after"), before=request.GET.get("open_before")
    )
    other_page = keyset_page(
        not_open_for_bids(tenders, now),
        key="id",
        descending=True,
        after=request.GET.get("after"),
        before=request.GET.get("before"),
        size=PAGE_SIZE,
        to_python=int,
    )
    chosen_agency = filterset.form.cleaned_data.get("agency") if filterset.form.is_valid() else None
    return render(
        request,
        "portal/tender_list.html",
        {"filter": filterset, "open_page": open_page, "other_page": other_page, "agency": chosen_agency, "now": now},
    )


# One tender --------------------------------------------------------------------------------------


def _public_tender(reference: str) -> Tender:
    return get_object_or_404(Tender.objects.public().select_related("agency", "phase__programme"), reference=reference)


def _published_documents(tender: Tender):
    """The tender's own documents and those of issued addenda (not of addenda still being prepared)."""
    return tender.documents.published()


def _share_metadata(request, tender: Tender) -> dict:
    return share_metadata(request, tender.get_public_url())


def share_metadata(request, path: str) -> dict:
    """The page's absolute address, its locale and its other languages, for Open Graph and the canonical link."""
    language = "ar" if is_arabic() else "en"
    return {
        "url": request.build_absolute_uri(path),
        "locale": OG_LOCALES[language],
        "alternate_locales": [locale for code, locale in OG_LOCALES.items() if code != language],
        "alternates": [
            {"language": code, "url": request.build_absolute_uri(translate_url(path, code))}
            for code, _name in settings.LANGUAGES
        ],
    }


def _render_tender(request, tender: Tender, question_form: ClarificationQuestionForm):
    now = timezone.now()
    documents = list(
        _published_documents(tender).select_related("addendum", "superseded_by__addendum").order_by("uploaded_at", "pk")
    )
    can_ask = request.user.has_perm("procurement.ask_clarification", tender)
    questions_open = tender.questions_open(now)
    context = {
        "tender": tender,
        "criteria": tender.criteria.order_by("order", "pk") if tender.uses_technical_criteria else [],
        "current_documents": [d for d in documents if d.superseded_by_id is None],
        "earlier_documents": [d for d in documents if d.superseded_by_id is not None],
        # Plain values, never the model: the page cannot show who asked, even by mistake.
        "clarifications": tender.clarifications.filter(answered_at__isnull=False)
        .order_by("number")
        .values("number", "question", "answer", "answered_at"),
        "addenda": tender.addenda.filter(status=AddendumStatus.ISSUED).order_by("number"),
        "questions_open": questions_open,
        "can_ask": can_ask,
        # After a refusal the form stays on the page with what was typed, even if questions have closed.
        "show_question_form": can_ask and (questions_open or question_form.is_bound),
        "question_form": question_form,
        "share": _share_metadata(request, tender),
        "bid_box": tender_bid_box(request.user, tender),
        "abnormally_low_percent": settings.ABNORMALLY_LOW_PERCENT,
    }
    return render(request, "portal/tender_detail.html", context)


def tender_detail(request, reference: str):
    return _render_tender(request, _public_tender(reference), ClarificationQuestionForm())


@require_POST
@login_required
def ask_question(request, reference: str):
    tender = _public_tender(reference)
    if not request.user.has_perm("procurement.ask_clarification", tender):
        raise PermissionDenied
    form = ClarificationQuestionForm(request.POST)
    if form.is_valid():
        try:
            clarification = clarification_ask(actor=request.user, tender=tender, question=form.cleaned_data["question"])
        except ActionRefused as refusal:
            form.add_error(None, refusal.message)
        except ValidationError as error:
            for field, errors in getattr(error, "error_dict", {None: error.error_list}).items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(
                request,
                _(
                    "Your question was sent as question %(number)s. Its answer will be published on this page "
                    "for every vendor, without your name."
                )
                % {"number": clarification.number},
            )
            return redirect(f"{tender.get_public_url()}#questions")
    return _render_tender(request, tender, form)


# Documents ---------------------------------------------------------------------------------------


def _may_download(user, document: TenderDocument) -> bool:
    tender = document.tender
    published = document.is_published
    if tender.is_public and published:
        return True
    return user.has_perm("procurement.view_tender_internals", tender)


def _refuse_damaged_document(request, document: TenderDocument, *, problem: str, found: str, status: int):
    """The stored file is missing or no longer the one published: say so, and record it for the auditors."""
    tender_document_integrity_failure_record(user=request.user, document=document, problem=problem, found=found)
    return render(request, "portal/document_unavailable.html", {"document": document}, status=status)


def document_download(request, pk: int):
    document = get_object_or_404(TenderDocument.objects.select_related("tender", "addendum"), pk=pk)
    if not _may_download(request.user, document):
        raise Http404
    try:
        handle = document.file.storage.open(document.file.name, "rb")
    except OSError:
        return _refuse_damaged_document(request, document, problem="missing", found="", status=410)
    # The bytes sent are the bytes hashed: one open file, read twice.
    found = sha256_of_handle(handle)
    if found != document.sha256:
        handle.close()
        return _refuse_damaged_document(request, document, problem="sha256_mismatch", found=found, status=409)
    tender_document_download_record(user=request.user, document=document)
    response = FileResponse(
        handle, as_attachment=True, filename=document.original_name, content_type=document.content_type
    )
    response["X-Content-SHA256"] = document.sha256
    patch_cache_control(response, private=True)
    return response


# Search, agencies, vendors, contracts and programmes -----------------------------------------------


def search(request):
    """One search over public tenders, signed contracts (awards) and verified vendors, in three groups."""
    results = selectors.search(request.GET.get("q", ""))
    return render(request, "portal/search.html", {"results": results, "min_length": selectors.MIN_SEARCH_LENGTH})


def agency_detail(request, code: str):
    """A ministry's or agency's published tenders and its signed contracts."""
    agency = get_object_or_404(Agency.objects.select_related("parent"), code=code.upper())
    tenders = list(
        Tender.objects.public()
        .filter(agency=agency)
        .select_related("agency")
        .defer(*LIST_DEFERRED_FIELDS)
        .order_by("-id")[:AGENCY_TENDERS]
    )
    contracts = keyset_page(
        selectors.public_contracts().filter(agency=agency),
        key="id",
        descending=True,
        after=request.GET.get("after"),
        before=request.GET.get("before"),
        size=PAGE_SIZE,
        to_python=int,
    )
    return render(
        request,
        "portal/agency_detail.html",
        {"agency": agency, "tenders": tenders, "contracts": contracts, "now": timezone.now()},
    )


def vendor_detail(request, pk: int):
    """A verified vendor's public profile: its name, categories, the contracts it won and its performance score.

    Nothing of its people, its documents or its bids; a vendor that is not verified has no public page."""
    vendor = get_object_or_404(
        selectors.public_vendors().only("id", "legal_name_en", "legal_name_ar", "website", "verified_at", "status"),
        pk=pk,
    )
    contracts = keyset_page(
        selectors.public_contracts().filter(vendor=vendor),
        key="id",
        descending=True,
        after=request.GET.get("after"),
        before=request.GET.get("before"),
        size=PAGE_SIZE,
        to_python=int,
    )
    score = vendor_scores([vendor.pk], today=timezone.localdate()).get(vendor.pk)
    return render(
        request,
        "portal/vendor_detail.html",
        {"vendor": vendor, "categories": vendor.categories.order_by("code"), "contracts": contracts, "score": score},
    )


def contract_detail(request, number):
    """A signed contract: its parties, value, term, the milestones delivered, the amendments in force, and the
    fingerprint of the PDF both parties signed."""
    contract = get_object_or_404(
        Contract.objects.filter(selectors.signed_contract_filter(), tender__in=Tender.objects.public()).select_related(
            "agency", "vendor", "tender", "phase__programme"
        ),
        number=number,
    )
    milestones = list(selectors.public_milestones(contract))
    path = reverse("portal:contract_detail", args=[contract.number])
    return render(
        request,
        "portal/contract_detail.html",
        {
            "contract": contract,
            "vendor_is_public": contract.vendor.status == VendorStatus.VERIFIED,
            "milestones": milestones,
            "progress": selectors.milestone_summary(milestones),
            "amendments": contract.amendments.filter(status=AmendmentStatus.IN_FORCE)
            .only("id", "number", "new_value", "new_end_date", "in_force_at", "contract_id")
            .order_by("number"),
            "signed_pdf": selectors.fully_signed_pdf(contract),
            "published_pdfs": selectors.published_pdfs(contract),
            "share": share_metadata(request, path),
            "today": timezone.localdate(),
        },
    )


def contract_pdf(request, number, signature: int):
    """A signed PDF of a public contract (its own text or an amendment in force), only when its agency publishes
    them; served as it was signed, with its SHA-256."""
    from django.http import FileResponse, Http404

    contract = get_object_or_404(
        Contract.objects.filter(selectors.signed_contract_filter(), tender__in=Tender.objects.public()).select_related(
            "agency", "tender"
        ),
        number=number,
    )
    found = next((s for s in selectors.published_pdfs(contract) if s.pk == signature), None)
    if found is None:
        raise Http404
    version = found.version
    name = (
        f"{contract.reference}-amendment-{version.amendment.number}.pdf"
        if version.amendment_id
        else (f"{contract.reference}.pdf")
    )
    try:
        handle = found.pdf.storage.open(found.pdf.name, "rb")
    except OSError:
        raise Http404 from None
    # The bytes sent are the bytes hashed: a stored file that no longer matches its signature's record is not
    # passed off as the signed contract.
    if sha256_of_handle(handle) != found.sha256:
        handle.close()
        raise Http404
    response = FileResponse(handle, as_attachment=True, filename=name, content_type="application/pdf")
    response["X-Content-SHA256"] = found.sha256
    return response


def programme_detail(request, pk: int):
    """A programme's phases and how far each has come, for the public and for sharing."""
    programme = get_object_or_404(Programme.objects.select_related("sponsor_agency"), pk=pk)
    phases = list(programme.phases.order_by("order"))
    today = timezone.localdate()
    path = reverse("portal:programme_detail", args=[programme.pk])
    return render(
        request,
        "portal/programme_detail.html",
        {
            "programme": programme,
            "progress": selectors.phases_progress(phases, today=today),
            "timeline": programme_timeline(programme, phases, today=today, rtl=is_arabic()),
            "share": share_metadata(request, path),
            "today": today,
        },
    )


# Guides ------------------------------------------------------------------------------------------


def guide_list(request):
    return render(request, "portal/guides/index.html", {"guides": GUIDES})


def guide_detail(request, slug: str):
    if slug not in GUIDE_SLUGS:
        raise Http404
    return render(request, f"portal/guides/{slug}.html", {"guides": GUIDES, "slug": slug})
