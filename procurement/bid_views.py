"""The vendors' side of sealed bids: starting a bid from a tender, the draft form (answers, prices, price
schedule, consortium, documents), submission and modification, withdrawal, re-confirmation, "My bids",
and the receipts with their PDF.

A bid is seen only by its vendor's people and the tender's insiders (``procurement.view_bid``); anyone else
gets a 404, as if it did not exist. Only the vendor's people change it (``procurement.change_bid``, 403 for
insiders). Nothing sealed is ever shown: there is nothing readable to show until the opening.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.exceptions import ActionRefused
from core.pagination import keyset_page
from procurement import bid_services
from procurement.bid_forms import (
    DRAFT_MARKER,
    BidDocumentForm,
    BidDraftForm,
    ConsortiumFormSet,
    PriceLineFormSet,
    WithdrawForm,
    consortium_initial,
    lines_initial,
)
from procurement.models import Bid, BidFile, BidReceipt, Tender
from procurement.models.bids import SEALED_STATES, BidStatus
from procurement.tasks import receipt_facts, render_bid_receipt_pdf

PAGE_SIZE = 25
RECEIPTS_SHOWN = 50
#: Seconds between reloads of the "being prepared" page of a receipt's PDF.
PDF_REFRESH_SECONDS = 3


# Loading a bid, and who may do what ----------------------------------------------------------------


def _bid(request, pk: int, *, change: bool = False) -> Bid:
    bid = get_object_or_404(Bid.objects.select_related("tender__agency", "vendor"), pk=pk)
    if not request.user.has_perm("procurement.view_bid", bid):
        raise Http404
    if change and not request.user.has_perm("procurement.change_bid", bid):
        raise PermissionDenied
    return bid


def _editable(bid: Bid) -> bool:
    return bid.is_editable


@dataclass
class BidActions:
    edit: bool = False
    modify: bool = False
    discard: bool = False
    withdraw: bool = False
    reconfirm: bool = False

    @property
    def any(self) -> bool:
        return any((self.edit, self.modify, self.discard, self.withdraw, self.reconfirm))


def bid_actions(bid: Bid, user, now) -> BidActions:
    """What the person may do now; the services decide again (under the tender lock) when they act."""
    if not user.has_perm("procurement.change_bid", bid):
        return BidActions()
    is_open = bid.tender.is_open_for_bids(now)
    sealed = bid.status in SEALED_STATES
    return BidActions(
        edit=is_open and _editable(bid),
        modify=is_open and sealed and not bid.has_draft,
        discard=sealed and bid.has_draft,
        withdraw=is_open and (bid.status == BidStatus.DRAFT or sealed),
        reconfirm=is_open and bid.status == BidStatus.NEEDS_RECONFIRMATION,
    )


def _refused(request, bid: Bid, call, success: str | None = None):
    """Run a service that needs nothing typed; a refusal becomes a message on the bid's page."""
    try:
        result = call()
    except ActionRefused as refusal:
        messages.error(request, refusal.message)
        return None
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return None
    if success:
        messages.success(request, success)
    return result


# Starting a bid, and the box on the tender's page --------------------------------------------------


def tender_bid_box(user, tender: Tender) -> dict:
    """What ``procurement/bids/_tender_bid_box.html`` shows on a tender's page for this person: a button to
    prepare or continue their vendor's bid, or why they cannot bid."""
    box = {"show": False, "bid": None, "problems": [], "is_open": False}
    if not (user.is_authenticated and user.has_perm("procurement.submit_bid", tender)):
        return box
    vendor = bid_services.vendor_of(user)
    if vendor is None:
        return box
    now = timezone.now()
    box.update(show=True, vendor=vendor, is_open=tender.is_open_for_bids(now))
    box["bid"] = (
        Bid.objects.filter(tender=tender, vendor=vendor).exclude(status=BidStatus.WITHDRAWN).order_by("-id").first()
    )
    if box["bid"] is None and box["is_open"]:
        box["problems"] = bid_services.eligibility_problems(vendor, timezone.localdate(now))
    return box


@login_required
@require_POST
def bid_start(request, pk: int):
    tender = get_object_or_404(Tender, pk=pk)
    back = tender.get_public_url() if tender.is_public else reverse("procurement:bid_list")
    try:
        bid = bid_services.bid_start(actor=request.user, tender=tender)
    except ActionRefused as refusal:
        messages.error(request, refusal.message)
        return redirect(back)
    if _editable(bid):
        return redirect("procurement:bid_edit", bid.pk)
    return redirect(bid)


# My bids ------------------------------------------------------------------------------------------


@login_required
def bid_list(request):
    vendor = bid_services.vendor_of(request.user)
    if vendor is None or not request.user.has_perm("procurement.submit_bid"):
        raise PermissionDenied
    bids = Bid.objects.filter(vendor=vendor).select_related("tender__agency")
    page = keyset_page(
        bids,
        key="id",
        descending=True,
        after=request.GET.get("after"),
        before=request.GET.get("before"),
        size=PAGE_SIZE,
        to_python=int,
    )
    return render(request, "procurement/bids/bid_list.html", {"page": page, "vendor": vendor, "now": timezone.now()})


# The bid's page -----------------------------------------------------------------------------------


@login_required
def bid_detail(request, pk: int):
    bid = _bid(request, pk)
    now = timezone.now()
    is_member = request.user.has_perm("procurement.change_bid", bid)
    versions = list(
        bid.versions.select_related("submitted_by").prefetch_related("envelopes", "files").order_by("-number")
    )
    receipts = list(bid.receipts.order_by("-id")[:RECEIPTS_SHOWN])
    context = {
        "bid": bid,
        "tender": bid.tender,
        "now": now,
        "is_open": bid.tender.is_open_for_bids(now),
        "actions": bid_actions(bid, request.user, now),
        "is_member": is_member,
        "versions": versions,
        "receipts": receipts,
        # Titles of documents are the vendor's own business until the opening.
        "draft_files": list(bid.files.filter(in_draft=True).order_by("id")) if is_member else [],
    }
    return render(request, "procurement/bids/bid_detail.html", context)


# The draft form -----------------------------------------------------------------------------------


@dataclass
class DraftForms:
    """The draft page's parts; what the service says about the lines, the consortium and the documents is
    kept beside them (they are formsets and a list, which have no field for it)."""

    form: BidDraftForm
    lines: PriceLineFormSet
    consortium: ConsortiumFormSet
    document: BidDocumentForm
    lines_errors: list = field(default_factory=list)
    consortium_errors: list = field(default_factory=list)
    document_errors: list = field(default_factory=list)

    def is_valid(self) -> bool:
        return all([self.form.is_valid(), self.lines.is_valid(), self.consortium.is_valid()])

    def draft_data(self) -> dict:
        return {**self.form.draft_values(), "lines": self.lines.lines(), "consortium": self.consortium.members()}

    def place(self, error: ValidationError) -> None:
        """Put each message of a refused submission or upload next to what it is about."""
        if not hasattr(error, "error_dict"):
            self.form.add_error(None, error.messages)
            return
        for name, errors in error.error_dict.items():
            texts = [message for item in errors for message in item.messages]
            if name in self.form.fields:
                self.form.add_error(name, texts)
            elif name == "lines":
                self.lines_errors.extend(texts)
            elif name == "consortium":
                self.consortium_errors.extend(texts)
            elif name == "file":
                self.document_errors.extend(texts)
            elif name == "title":
                self.document.add_error("document_title", texts)
            else:
                self.form.add_error(None, texts)

    @property
    def has_errors(self) -> bool:
        return bool(
            self.form.errors
            or any(self.lines.errors)
            or self.lines.non_form_errors()
            or any(self.consortium.errors)
            or self.consortium.non_form_errors()
            or self.document.errors
            or self.lines_errors
            or self.consortium_errors
            or self.document_errors
        )


def _criteria(bid: Bid) -> list:
    return list(bid.tender.criteria.order_by("order", "id"))


def _unbound_forms(bid: Bid) -> DraftForms:
    draft = bid_services.read_draft(bid)
    criteria = _criteria(bid)
    initial = {f"answer_{c.pk}": draft["answers"].get(str(c.pk), "") for c in criteria}
    initial.update(
        total_price=draft["total_price"],
        currency=draft["currency"] or bid.tender.currency,
        validity_days=draft["validity_days"],
    )
    return DraftForms(
        form=BidDraftForm(bid=bid, criteria=criteria, initial=initial),
        lines=PriceLineFormSet(prefix="lines", initial=lines_initial(draft["lines"])),
        consortium=ConsortiumFormSet(prefix="consortium", initial=consortium_initial(draft["consortium"])),
        document=BidDocumentForm(),
    )


def _bound_forms(request, bid: Bid) -> DraftForms:
    return DraftForms(
        form=BidDraftForm(request.POST, bid=bid, criteria=_criteria(bid)),
        lines=PriceLineFormSet(request.POST, prefix="lines"),
        consortium=ConsortiumFormSet(request.POST, prefix="consortium"),
        document=BidDocumentForm(request.POST, request.FILES),
    )


def _edit_page(request, bid: Bid, forms: DraftForms, *, status: int = 200):
    files = list(bid.files.filter(in_draft=True).order_by("id"))
    kept = [f for f in files if f.sealed_version <= bid.version] if bid.version else []
    return render(
        request,
        "procurement/bids/bid_edit.html",
        {
            "bid": bid,
            "tender": bid.tender,
            "forms": forms,
            "form": forms.form,
            "files": files,
            "kept_files": kept,
            "is_modification": bid.status in SEALED_STATES,
            "now": timezone.now(),
            "draft_marker": DRAFT_MARKER,
        },
        status=status,
    )


def _save_posted_draft(request, bid: Bid, forms: DraftForms) -> bool:
    """Save the draft as posted; on failure the forms carry the reason and still show what was typed."""
    if not forms.is_valid():
        return False
    try:
        bid_services.bid_save_draft(actor=request.user, bid=bid, data=forms.draft_data())
    except ActionRefused as refusal:
        forms.form.add_error(None, refusal.message)
        return False
    except ValidationError as error:
        forms.place(error)
        return False
    return True


def _add_posted_document(request, bid: Bid, forms: DraftForms) -> BidFile | None:
    document = forms.document
    if not document.is_valid():
        return None
    try:
        return bid_services.bid_file_add(
            actor=request.user,
            bid=bid,
            uploaded_file=document.cleaned_data["document"],
            title=document.cleaned_data["document_title"],
        )
    except ActionRefused as refusal:
        forms.document_errors.append(refusal.message)
    except ValidationError as error:
        forms.place(error)
    return None


def _edit_url(bid: Bid, fragment: str = "") -> str:
    url = reverse("procurement:bid_edit", args=[bid.pk])
    return f"{url}#{fragment}" if fragment else url


def _not_editable(request, bid: Bid):
    if bid.status in SEALED_STATES:
        messages.info(request, _("This bid is submitted and sealed. To change it, start a modification."))
    else:
        messages.error(
            request, _("This bid is “%(status)s”: it can no longer be changed.") % {"status": bid.get_status_display()}
        )
    return redirect(bid)


@login_required
def bid_edit(request, pk: int):
    bid = _bid(request, pk, change=True)
    if not _editable(bid):
        return _not_editable(request, bid)
    if request.method != "POST":
        return _edit_page(request, bid, _unbound_forms(bid))

    action = request.POST.get("action", "save")
    forms = _bound_forms(request, bid)
    if not _save_posted_draft(request, bid, forms):
        return _edit_page(request, bid, forms)
    if forms.document.has_file:
        if _add_posted_document(request, bid, forms) is None:
            return _edit_page(request, bid, forms)
        forms.document = BidDocumentForm()
    if action == "submit":
        try:
            receipt = bid_services.bid_submit(actor=request.user, bid=bid)
        except ActionRefused as refusal:
            forms.form.add_error(None, refusal.message)
        except ValidationError as error:
            forms.place(error)
        else:
            messages.success(
                request,
                _("Your bid was sealed and submitted at %(time)s (server time, UTC). Keep this receipt.")
                % {"time": receipt.server_time.astimezone(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S")},
            )
            return redirect(receipt)
        return _edit_page(request, bid, forms)
    if action == "add_rows":
        messages.success(request, _("The draft was saved; three more empty rows were added."))
        return redirect(_edit_url(bid, "lines"))
    messages.success(request, _("The draft was saved. It is not submitted until you press “Submit bid”."))
    return redirect(_edit_url(bid))


@login_required
@require_POST
def bid_file_upload(request, pk: int):
    """Attach a document; when the draft form came with it, what was typed is saved first."""
    bid = _bid(request, pk, change=True)
    if not _editable(bid):
        return _not_editable(request, bid)
    forms = _bound_forms(request, bid) if DRAFT_MARKER in request.POST else _unbound_forms(bid)
    if forms.form.is_bound and not _save_posted_draft(request, bid, forms):
        return _edit_page(request, bid, forms)
    forms.document = BidDocumentForm(request.POST, request.FILES)
    if not forms.document.has_file:
        forms.document.is_valid()
        forms.document.add_error("document", _("Choose the file to upload."))
        return _edit_page(request, bid, forms)
    added = _add_posted_document(request, bid, forms)
    if added is None:
        return _edit_page(request, bid, forms)
    messages.success(request, _("“%(title)s” was sealed and attached to the draft.") % {"title": added.title})
    return redirect(_edit_url(bid, "documents"))


@login_required
@require_POST
def bid_file_remove(request, pk: int, file_pk: int):
    bid = _bid(request, pk, change=True)
    bid_file = get_object_or_404(BidFile, pk=file_pk, bid=bid, in_draft=True)
    if not _editable(bid):
        return _not_editable(request, bid)
    if DRAFT_MARKER in request.POST:
        forms = _bound_forms(request, bid)
        if not _save_posted_draft(request, bid, forms):
            return _edit_page(request, bid, forms)
    removed = _refused(
        request,
        bid,
        lambda: bid_services.bid_file_remove(actor=request.user, bid=bid, bid_file=bid_file) or True,
        _("“%(title)s” was taken out of the draft.") % {"title": bid_file.title},
    )
    return redirect(_edit_url(bid, "documents") if removed else bid.get_absolute_url())


# Modification, withdrawal, re-confirmation ---------------------------------------------------------


@login_required
@require_POST
def bid_modify(request, pk: int):
    bid = _bid(request, pk, change=True)
    modified = _refused(request, bid, lambda: bid_services.bid_start_modification(actor=request.user, bid=bid))
    return redirect("procurement:bid_edit", bid.pk) if modified else redirect(bid)


@login_required
@require_POST
def bid_discard_modification(request, pk: int):
    bid = _bid(request, pk, change=True)
    _refused(
        request,
        bid,
        lambda: bid_services.bid_discard_modification(actor=request.user, bid=bid),
        _("The modification was discarded; the submitted version stands as it was."),
    )
    return redirect(bid)


@login_required
def bid_withdraw(request, pk: int):
    bid = _bid(request, pk, change=True)
    form = WithdrawForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        try:
            receipt = bid_services.bid_withdraw(actor=request.user, bid=bid)
        except ActionRefused as refusal:
            messages.error(request, refusal.message)
            return redirect(bid)
        messages.success(request, _("The bid was withdrawn. Keep this receipt."))
        return redirect(receipt)
    return render(request, "procurement/bids/bid_withdraw.html", {"bid": bid, "tender": bid.tender, "form": form})


@login_required
@require_POST
def bid_reconfirm(request, pk: int):
    bid = _bid(request, pk, change=True)
    receipt = _refused(
        request,
        bid,
        lambda: bid_services.bid_reconfirm(actor=request.user, bid=bid),
        _("The bid was re-confirmed after the addendum. Keep this receipt."),
    )
    return redirect(receipt) if receipt else redirect(bid)


# Receipts -----------------------------------------------------------------------------------------


def _receipt(request, number) -> BidReceipt:
    receipt = get_object_or_404(
        BidReceipt.objects.select_related("bid__tender__agency", "bid__vendor", "issued_to"), number=number
    )
    if not request.user.has_perm("procurement.view_bid", receipt.bid):
        raise Http404
    return receipt


@login_required
def bid_receipt(request, number):
    receipt = _receipt(request, number)
    facts = receipt_facts(receipt)
    if request.user.has_perm("procurement.change_bid", receipt.bid):
        titles = {
            f.label: f.title
            for f in BidFile.objects.filter(bid=receipt.bid, label__in=[e.get("label") for e in facts["envelopes"]])
        }
        for envelope in facts["envelopes"]:
            envelope["title"] = titles.get(envelope.get("label"), "")
    return render(request, "procurement/bids/bid_receipt.html", {"facts": facts, "receipt": receipt})


@login_required
def bid_receipt_pdf(request, number):
    """The receipt's PDF once rendered; until then a page that reloads itself. A failed rendering can be
    tried again (POST)."""
    receipt = _receipt(request, number)
    if request.method == "POST" and not receipt.pdf:
        BidReceipt.objects.filter(pk=receipt.pk).update(pdf_error="")
        render_bid_receipt_pdf.enqueue(receipt.pk)
        return redirect("procurement:bid_receipt_pdf", receipt.number)
    if receipt.pdf:
        return FileResponse(
            receipt.pdf.open("rb"),
            as_attachment=True,
            filename=f"bid-receipt-{receipt.number}.pdf",
            content_type="application/pdf",
        )
    return render(
        request,
        "procurement/bids/receipt_pdf_waiting.html",
        {"receipt": receipt, "bid": receipt.bid, "refresh": PDF_REFRESH_SECONDS, "failed": bool(receipt.pdf_error)},
    )
