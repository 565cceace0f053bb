"""The text of every notification, rendered in the active language when it is shown or e-mailed."""

from __future__ import annotations

import datetime

from django.utils.translation import gettext as _


def _tender_label(tender) -> str:
    return f"{tender.reference} — {tender.title}" if tender is not None else ""


class _Params(dict):
    """Formatting parameters; a detail that a notification lacks reads as an empty string."""

    def __missing__(self, key: str) -> str:
        return ""


def _moment(value: str) -> str:
    """An ISO 8601 time as a reader expects it (UTC, to the minute); anything else as it is."""
    try:
        moment = datetime.datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return value
    if moment.tzinfo is None:
        return moment.strftime("%Y-%m-%d %H:%M")
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _award_result(params: _Params) -> tuple[str, str]:
    """What one bidder is told when the award is approved: the outcome, their own scores and the reasons."""
    if params["won"] == "yes":
        subject = _("The award of %(tender)s goes to your bid") % params
        outcome = _("The award of %(tender)s to your bid was approved.") % params
    else:
        subject = _("Result of the evaluation of %(tender)s") % params
        outcome = _("The award of %(tender)s was approved in favour of %(winner)s.") % params
    parts = [
        outcome,
        _("Your scores: technical %(technical)s, financial %(financial)s, combined %(combined)s; rank %(rank)s.")
        % params,
    ]
    if params["disqualification"]:
        parts.append(_("Your bid was disqualified: %(disqualification)s") % params)
    parts.append(_("Reasons for the recommendation: %(reasons)s") % params)
    if params["standstill_ends"]:
        parts.append(
            _(
                "The award becomes final when the standstill period ends on %(standstill_ends)s; until then you may "
                "file a complaint."
            )
            % _Params(params, standstill_ends=_moment(params["standstill_ends"]))
        )
    return subject, " ".join(str(part) for part in parts)


def render_message(kind: str, tender, context: dict) -> tuple[str, str]:
    """(subject, body) for a notification of ``kind``."""
    label = _tender_label(tender)
    params = _Params(tender=label, **{k: v for k, v in context.items() if isinstance(v, str | int)})
    if kind == "award.result":
        return _award_result(params)
    if kind.startswith("contract."):
        found = _contract_messages(kind, params)
        if found is not None:
            return found
    messages = {
        "tender.submitted": (
            _("Tender %(tender)s awaits your approval") % params,
            _("The tender %(tender)s was submitted for the steering committee's approval.") % params,
        ),
        "tender.published": (
            _("Tender %(tender)s is published") % params,
            _("The tender %(tender)s was approved and is now published on the portal.") % params,
        ),
        "tender.returned": (
            _("Tender %(tender)s was returned with comments") % params,
            _("The approver returned the tender %(tender)s to draft. Comments: %(comments)s") % params,
        ),
        "tender.closed": (
            _("Tender %(tender)s is closed for bids") % params,
            _("The submission deadline of %(tender)s has passed; no more bids are accepted.") % params,
        ),
        "tender.cancelled": (
            _("Tender %(tender)s was cancelled") % params,
            _("The tender %(tender)s was cancelled. Reason: %(reason)s") % params,
        ),
        "tender.unsuccessful": (
            _("Tender %(tender)s ended without an award") % params,
            _("The tender %(tender)s was declared unsuccessful. Reason: %(reason)s") % params,
        ),
        "clarification.asked": (
            _("New question on %(tender)s") % params,
            _("A vendor asked question %(number)s on the tender %(tender)s. Please answer it.") % params,
        ),
        "clarification.answered": (
            _("Question %(number)s on %(tender)s was answered") % params,
            _("An answer to question %(number)s on the tender %(tender)s was published for all vendors.") % params,
        ),
        "addendum.pending_approval": (
            _("Addendum %(number)s to %(tender)s awaits your approval") % params,
            _("Addendum %(number)s to the tender %(tender)s changes its value or criteria and needs approval.")
            % params,
        ),
        "document.integrity_failed": (
            _("A document of %(tender)s failed its integrity check") % params,
            _(
                "The stored file of “%(title)s” (tender %(tender)s) is missing or differs from the published "
                "SHA-256. Downloads of it are refused until it is restored."
            )
            % params,
        ),
        "addendum.issued": (
            _("Addendum %(number)s to %(tender)s was issued") % params,
            _("Addendum %(number)s to the tender %(tender)s was issued. Read it before you bid.") % params,
        ),
        "opening.key_needed": (
            _("You were named to the opening committee of %(tender)s") % params,
            _(
                "You were named to the committee that will open the sealed bids of %(tender)s. Set up your "
                "personal key on your profile (you confirm it with your password) before the tender can be "
                "published."
            )
            % params,
        ),
        "opening.awaiting_second": (
            _("Opening of %(tender)s: a second member must confirm") % params,
            _(
                "%(member)s confirmed the opening of the bids of %(tender)s. A second member of the opening "
                "committee must confirm, with their password, for the bids to be opened."
            )
            % params,
        ),
        "tender.bids_opened": (
            _("The bids of %(tender)s were opened") % params,
            _("%(count)s bids of the tender %(tender)s were opened; the opening record is published.") % params,
        ),
        "bid.submitted": (
            _("Your bid on %(tender)s was submitted") % params,
            _(
                "Your bid on the tender %(tender)s was sealed and submitted as version %(version)s. "
                "Receipt: %(receipt)s."
            )
            % params,
        ),
        "bid.modified": (
            _("Your bid on %(tender)s was modified") % params,
            _(
                "Your modified bid on the tender %(tender)s was sealed and submitted as version %(version)s; "
                "it replaces the earlier version. Receipt: %(receipt)s."
            )
            % params,
        ),
        "bid.reconfirmed": (
            _("Your bid on %(tender)s was re-confirmed") % params,
            _(
                "Your bid on the tender %(tender)s (version %(version)s) was re-confirmed after the addendum. "
                "Receipt: %(receipt)s."
            )
            % params,
        ),
        "bid.withdrawn": (
            _("Your bid on %(tender)s was withdrawn") % params,
            _(
                "Your bid on the tender %(tender)s (version %(version)s) was withdrawn; it will not be opened. "
                "Receipt: %(receipt)s."
            )
            % params,
        ),
        "bid.needs_reconfirmation": (
            _("Re-confirm your bid on %(tender)s") % params,
            _(
                "Addendum %(number)s changed the tender %(tender)s. Re-confirm your bid before the submission "
                "deadline, or modify it; a bid that is not re-confirmed will not be opened."
            )
            % params,
        ),
        "evaluation.appointed": (
            _("You were appointed to the evaluation committee of %(tender)s") % params,
            _(
                "You were appointed to the committee that evaluates the bids of %(tender)s. Before you see any bid, "
                "declare for each bidder whether you have a conflict of interest."
            )
            % params,
        ),
        "evaluation.started": (
            _("The evaluation of %(tender)s has started") % params,
            _(
                "The evaluation of the bids of %(tender)s has started. Declare your interests for each bidder, then "
                "score each responsive bid on every criterion and submit your scores."
            )
            % params,
        ),
        "evaluation.member_recused": (
            _("A member of the evaluation committee of %(tender)s declared a conflict") % params,
            _(
                "A member of the evaluation committee of %(tender)s declared a conflict of interest with a bidder "
                "and is recused from its bid. Check that the committee still has its quorum."
            )
            % params,
        ),
        "evaluation.all_scores_in": (
            _("Every member has scored the bids of %(tender)s") % params,
            _(
                "Every member of the evaluation committee of %(tender)s has submitted their scores. The score "
                "matrix can now be read; the chair records the consensus where needed and concludes the technical "
                "evaluation."
            )
            % params,
        ),
        "evaluation.none_qualified": (
            (
                _("Too few bids on %(tender)s qualified") % params
                if context.get("qualified")
                else _("No bid on %(tender)s qualified") % params
            ),
            (
                _(
                    "Only %(qualified)s bid(s) on %(tender)s qualified, fewer than the minimum of %(minimum)s the "
                    "tender requires. The tender should be declared unsuccessful."
                )
                % params
                if context.get("qualified")
                else _(
                    "No bid on %(tender)s passed the administrative and technical evaluation. The tender should be "
                    "declared unsuccessful."
                )
                % params
            ),
        ),
        "bid.qualified": (
            _("Your bid on %(tender)s qualified technically") % params,
            _(
                "Your bid on the tender %(tender)s passed the technical evaluation with a score of %(score)s and "
                "goes on to the financial evaluation."
            )
            % params,
        ),
        "bid.disqualified": (
            _("Your bid on %(tender)s was disqualified") % params,
            (
                _("Your bid on the tender %(tender)s was disqualified (technical score %(score)s). Reason: %(reason)s")
                if params["score"]
                else _("Your bid on the tender %(tender)s was disqualified. Reason: %(reason)s")
            )
            % params,
        ),
        "award.recommended": (
            _("The award of %(tender)s awaits your approval") % params,
            _(
                "The evaluation committee of %(tender)s recommended an award. Read the evaluation report, then "
                "approve the recommendation or return it to the committee with your comments."
            )
            % params,
        ),
        "award.returned": (
            _("The recommendation on %(tender)s was returned") % params,
            _(
                "The approver returned the award recommendation on %(tender)s to the evaluation committee. "
                "Comments: %(comments)s"
            )
            % params,
        ),
        "complaint.filed": (
            _("A complaint was filed against the award of %(tender)s") % params,
            _(
                "A bidder filed a complaint against the award of %(tender)s. The award cannot become final until "
                "someone outside the evaluation committee decides it."
            )
            % params,
        ),
        "complaint.upheld": (
            _("A complaint on %(tender)s was upheld") % params,
            _(
                "A complaint against the award of %(tender)s was upheld; the award is set aside and the tender "
                "returns to evaluation. Decision: %(decision)s"
            )
            % params,
        ),
        "complaint.dismissed": (
            _("Your complaint on %(tender)s was dismissed") % params,
            _("Your complaint against the award of %(tender)s was dismissed. Decision: %(decision)s") % params,
        ),
        "tender.awarded": (
            _("Tender %(tender)s is awarded") % params,
            _("The standstill period of %(tender)s ended with no complaint pending: the award to %(winner)s is final.")
            % params,
        ),
        "vendor.verified": (
            _("%(vendor)s is verified") % params,
            _("An officer verified %(vendor)s. It can now bid while its mandatory documents are current.") % params,
        ),
        "vendor.suspended": (
            _("%(vendor)s is suspended") % params,
            _("%(vendor)s was suspended and cannot bid. Reason: %(reason)s") % params,
        ),
        "vendor.reinstated": (
            _("%(vendor)s is reinstated") % params,
            _("The suspension of %(vendor)s was ended; it can bid again.") % params,
        ),
        "vendor.debarred": (
            _("%(vendor)s is debarred") % params,
            _("%(vendor)s was debarred from public procurement (%(legal_reference)s). Reason: %(reason)s") % params,
        ),
        "vendor.debarment_lifted": (
            _("The debarment of %(vendor)s was lifted") % params,
            _("The debarment of %(vendor)s was lifted.") % params,
        ),
        "vendor.colleague_joined": (
            _("%(person)s joined %(vendor)s") % params,
            _("%(person)s accepted your invitation and now acts for %(vendor)s.") % params,
        ),
        # Desk (desk/services.py) -----------------------------------------------------------------------------
        "desk.escalated": (
            _("Overdue at the desk: %(reference)s") % params,
            _(
                "The desk item %(reference)s (%(subject)s) was not answered within its response-time target and "
                "is %(overdue_hours)s hour(s) overdue. Please see that it is answered: %(url)s"
            )
            % params,
        ),
        "desk.assigned": (
            _("Desk item %(reference)s is assigned to you") % params,
            _("The desk item %(reference)s (%(subject)s) was assigned to you to answer: %(url)s") % params,
        ),
        "desk.reopened": (
            _("Desk item %(reference)s was reopened") % params,
            _("The sender reopened the desk item %(reference)s (%(subject)s); it is back in the queue: %(url)s")
            % params,
        ),
        # End of the desk block --------------------------------------------------------------------------------
    }
    return messages.get(kind, (kind, label))


def _contract_messages(kind: str, params: _Params) -> tuple[str, str] | None:
    """The contract's notifications (``contracts.notify``)."""
    messages = {
        "contract.ready_to_sign": (
            _("Contract %(contract)s awaits your signature") % params,
            _(
                "The contract %(contract)s for %(tender)s is frozen and its PDF is ready. As the contractor's "
                "authorised signatory, read it and sign it with your password; the agency countersigns after you."
            )
            % params,
        ),
        "contract.countersign": (
            _("Contract %(contract)s was signed by the contractor") % params,
            _(
                "The contractor signed the contract %(contract)s for %(tender)s. An officer of the agency "
                "countersigns it."
            )
            % params,
        ),
        "contract.in_force": (
            _("Contract %(contract)s is in force") % params,
            _("Both parties signed the contract %(contract)s for %(tender)s: it is in force.") % params,
        ),
        "contract.completed": (
            _("Contract %(contract)s is completed") % params,
            _("The contract %(contract)s for %(tender)s was marked completed.") % params,
        ),
        "contract.terminated": (
            _("Contract %(contract)s was terminated") % params,
            _("The contract %(contract)s for %(tender)s was terminated. Reason: %(reason)s") % params,
        ),
        "contract.amendment_submitted": (
            _("Amendment %(amendment)s to contract %(contract)s awaits your approval") % params,
            _(
                "An officer drafted amendment %(amendment)s to the contract %(contract)s and sent it for approval. "
                "An approver who did not draft it approves it or sends it back."
            )
            % params,
        ),
        "contract.amendment_returned": (
            _("Amendment %(amendment)s to contract %(contract)s was sent back") % params,
            _("The approver sent amendment %(amendment)s to the contract %(contract)s back to you. Reason: %(reason)s")
            % params,
        ),
        "contract.amendment_ready_to_sign": (
            _("Amendment %(amendment)s to contract %(contract)s awaits your signature") % params,
            _(
                "Amendment %(amendment)s to the contract %(contract)s was approved and its PDF is ready. As the "
                "contractor's authorised signatory, read it and sign it; the agency countersigns after you."
            )
            % params,
        ),
        "contract.amendment_countersign": (
            _("Amendment %(amendment)s to contract %(contract)s was signed by the contractor") % params,
            _(
                "The contractor signed amendment %(amendment)s to the contract %(contract)s. An officer of the "
                "agency countersigns it."
            )
            % params,
        ),
        "contract.progress_reported": (
            _("Progress report on contract %(contract)s") % params,
            _(
                "The contractor reported on the milestone “%(milestone)s” of the contract %(contract)s. Accept it or "
                "reject it with your reasons."
            )
            % params,
        ),
        "contract.milestone_accepted": (
            _("Milestone accepted on contract %(contract)s") % params,
            _("The milestone “%(milestone)s” of the contract %(contract)s was accepted.") % params,
        ),
        "contract.milestone_rejected": (
            _("Milestone rejected on contract %(contract)s") % params,
            _(
                "The milestone “%(milestone)s” of the contract %(contract)s was rejected. Reasons: %(reason)s. "
                "Report on it again once it is put right."
            )
            % params,
        ),
        "contract.payment_recorded": (
            _("Payment recorded on contract %(contract)s") % params,
            _("A payment of %(amount)s for the milestone “%(milestone)s” of the contract %(contract)s was recorded.")
            % params,
        ),
        "contract.kpi_submitted": (
            _("KPI measurement to confirm on contract %(contract)s") % params,
            _("The contractor submitted a measurement of “%(kpi)s” on the contract %(contract)s. Confirm or reject it.")
            % params,
        ),
        "contract.milestone_overdue": (
            _("Milestone overdue on contract %(contract)s") % params,
            _(
                "The milestone “%(milestone)s” of the contract %(contract)s was due on %(due)s and is not accepted: "
                "it is overdue, and liquidated damages accrue by the contract's daily rate."
            )
            % params,
        ),
        "contract.amendment_in_force": (
            _("Amendment %(amendment)s to contract %(contract)s is in force") % params,
            _(
                "Both parties signed amendment %(amendment)s to the contract %(contract)s: the contract's terms now "
                "include it."
            )
            % params,
        ),
    }
    return messages.get(kind)
