"""Who may do what, to which object: the one place in the code that answers it.

Every check in views, templates, services and the admin goes through ``user.has_perm(name, obj)``
(or ``rules.test_rule``), which ends here. Roles are groups (``accounts.roles.Role``); a predicate
below combines a role with the facts of the object (its agency, who prepared it, …). Auditors get
only ``view_*`` permissions: they read everything and change nothing.
"""

from __future__ import annotations

import rules

from accounts.roles import Role


def _role(role: Role):
    @rules.predicate(name=f"has_role:{role.value}")
    def check(user) -> bool:
        return bool(user and user.is_authenticated and user.has_role(role))

    return check


is_vendor_user = _role(Role.VENDOR_USER)
is_officer = _role(Role.PROCUREMENT_OFFICER)
is_committee_member = _role(Role.COMMITTEE_MEMBER)
is_approver = _role(Role.APPROVER)
is_auditor = _role(Role.AUDITOR)
is_role_administrator = _role(Role.ADMINISTRATOR)


@rules.predicate
def is_administrator(user) -> bool:
    return bool(
        user and user.is_authenticated and user.is_active and (user.is_superuser or user.has_role(Role.ADMINISTRATOR))
    )


def _agency_id_of(obj) -> int | None:
    """The agency an object is run by: a programme's sponsor, a phase's programme's sponsor, …"""
    if obj is None:
        return None
    for attribute in ("sponsor_agency_id", "agency_id"):
        if hasattr(obj, attribute):
            return getattr(obj, attribute)
    programme = getattr(obj, "programme", None)
    if programme is not None:
        return programme.sponsor_agency_id
    return None


@rules.predicate
def acts_for_object_agency(user, obj) -> bool:
    """The user belongs to the agency that runs ``obj`` (always true when there is no object yet)."""
    if obj is None:
        return True
    agency_id = _agency_id_of(obj)
    return agency_id is not None and user.agency_id == agency_id


@rules.predicate
def sits_on_steering_committee(user, programme) -> bool:
    if programme is None:
        return False
    return programme.steering_committee.filter(pk=user.pk).exists()


is_agency_officer = is_officer & acts_for_object_agency
is_signed_in = rules.is_authenticated

# Organisation.
rules.add_perm("procurement.view_agency", rules.always_allow)
rules.add_perm("procurement.add_agency", is_administrator)
rules.add_perm("procurement.change_agency", is_administrator)
rules.add_perm("procurement.delete_agency", rules.always_deny)

# The programme and its phases are public; the sponsor agency's officers run them.
rules.add_perm("procurement.view_programme", rules.always_allow)
rules.add_perm("procurement.add_programme", is_officer | is_administrator)
rules.add_perm("procurement.change_programme", is_agency_officer | is_administrator)
rules.add_perm("procurement.delete_programme", rules.always_deny)
rules.add_perm("procurement.view_phase", rules.always_allow)
# The object of add_phase is the programme the phase will belong to.
rules.add_perm("procurement.add_phase", is_agency_officer | is_administrator)
rules.add_perm("procurement.change_phase", is_agency_officer | is_administrator)
rules.add_perm("procurement.delete_phase", rules.always_deny)

# Tenders. The object is the tender (for add_tender: the phase, or nothing).


@rules.predicate
def prepared_it(user, tender) -> bool:
    """Four eyes: the person who prepared or submitted a tender never approves it."""
    if tender is None:
        return False
    return user.pk in (tender.created_by_id, getattr(tender, "submitted_by_id", None))


@rules.predicate
def approves_for_tender(user, tender) -> bool:
    """Approvers of the tender's agency, or members of its programme's steering committee."""
    if tender is None:
        return False
    if user.agency_id == tender.agency_id:
        return True
    return tender.phase.programme.steering_committee.filter(pk=user.pk).exists()


@rules.predicate
def tender_is_public(user, tender) -> bool:
    return tender is not None and bool(tender.is_public)


@rules.predicate
def addendum_prepared_by(user, addendum) -> bool:
    return addendum is not None and user.pk == addendum.created_by_id


@rules.predicate
def approves_for_addendum(user, addendum) -> bool:
    return addendum is not None and approves_for_tender(user, addendum.tender)


is_tender_officer = is_officer & acts_for_object_agency
can_see_internal_tenders = is_tender_officer | (is_approver & approves_for_tender) | is_auditor | is_administrator

rules.add_perm("procurement.view_tender", tender_is_public | can_see_internal_tenders)
rules.add_perm("procurement.view_clarification", is_administrator | is_auditor)
rules.add_perm("procurement.view_addendum", is_administrator | is_auditor)
rules.add_perm("procurement.view_tender_internals", can_see_internal_tenders)
rules.add_perm("procurement.add_tender", is_officer)
rules.add_perm("procurement.change_tender", is_tender_officer)
rules.add_perm("procurement.delete_tender", rules.always_deny)
rules.add_perm("procurement.submit_tender", is_tender_officer)
rules.add_perm("procurement.approve_tender", is_approver & approves_for_tender & ~prepared_it)
rules.add_perm("procurement.close_tender", is_tender_officer)
rules.add_perm("procurement.cancel_tender", is_tender_officer)
rules.add_perm("procurement.mark_unsuccessful_tender", is_tender_officer)
rules.add_perm("procurement.ask_clarification", is_vendor_user)
rules.add_perm("procurement.answer_clarification", is_tender_officer)
rules.add_perm("procurement.add_addendum", is_tender_officer)
rules.add_perm("procurement.approve_addendum", is_approver & approves_for_addendum & ~addendum_prepared_by)

# Evaluation and award. The object is the tender.


@rules.predicate
def sits_on_evaluation_committee(user, tender) -> bool:
    tender = getattr(tender, "tender", tender)
    return tender is not None and tender.evaluation_members.filter(user=user).exists()


@rules.predicate
def evaluates_bid_without_conflict(user, bid) -> bool:
    """An evaluation member reads a bid only after declaring no conflict of interest with its bidder."""
    if bid is None or not hasattr(bid, "conflict_declarations"):
        return False
    return bid.conflict_declarations.filter(member__user=user, has_conflict=False).exists()


rules.add_perm("procurement.manage_evaluation_committee", is_tender_officer)
rules.add_perm("procurement.evaluate", sits_on_evaluation_committee & ~is_vendor_user)
rules.add_perm("procurement.view_evaluation", can_see_internal_tenders | sits_on_evaluation_committee)
# Exports hold every member's scores: for the agency's officers and auditors outside the committee (members
# read the matrix in their workspace, without the bids they are recused from).
rules.add_perm("procurement.export_evaluation", (is_tender_officer | is_auditor) & ~sits_on_evaluation_committee)
rules.add_perm("procurement.approve_award", is_approver & approves_for_tender & ~sits_on_evaluation_committee)
rules.add_perm("procurement.decide_complaint", (is_approver & approves_for_tender) & ~sits_on_evaluation_committee)
rules.add_perm("procurement.file_complaint", is_vendor_user)

# Sealed bids. The object is the tender (submit_bid, open_bids, view_bids) or the bid.


@rules.predicate
def sits_on_opening_committee(user, tender) -> bool:
    tender = getattr(tender, "tender", tender)
    return tender is not None and tender.opening_committee.filter(user=user).exists()


@rules.predicate
def works_for_bidder(user, bid) -> bool:
    membership = _vendor_membership_of(user)
    return bid is not None and membership is not None and membership.vendor_id == bid.vendor_id


@rules.predicate
def bid_tender_internal(user, bid) -> bool:
    """Officers of the bid's tender's agency, its approvers, auditors and administrators."""
    return bid is not None and can_see_internal_tenders.test(user, bid.tender)


@rules.predicate
def bid_committee(user, bid) -> bool:
    return bid is not None and sits_on_opening_committee.test(user, bid.tender)


rules.add_perm("procurement.submit_bid", is_vendor_user)
rules.add_perm("procurement.change_bid", is_vendor_user & works_for_bidder)
# Who may see that a bid exists, who made it and when (never its content while it is sealed).
rules.add_perm("procurement.view_bid", (is_vendor_user & works_for_bidder) | bid_tender_internal | bid_committee)


# Who may read an opened envelope: the tender's officers, its opening committee, auditors. Before the opening
# nobody may; the views refuse and record the attempt whatever these rules say.
@rules.predicate
def recused_from_bid(user, bid) -> bool:
    """Whoever declared a conflict of interest with a bidder never reads its bid, whatever else they are."""
    if bid is None or not hasattr(bid, "conflict_declarations"):
        return False
    return bid.conflict_declarations.filter(member__user=user, has_conflict=True).exists()


@rules.predicate
def evaluator_not_cleared(user, bid) -> bool:
    """An evaluation member of the bid's tender who has not (yet) declared no conflict with its bidder."""
    if bid is None or not hasattr(bid, "conflict_declarations"):
        return False
    if not bid.tender.evaluation_members.filter(user=user).exists():
        return False
    return not bid.conflict_declarations.filter(member__user=user, has_conflict=False).exists()


rules.add_perm(
    "procurement.read_bid_content",
    (
        (is_officer & bid_tender_internal)
        | bid_committee
        | evaluates_bid_without_conflict
        | is_auditor
        | (is_vendor_user & works_for_bidder)
    )
    & ~recused_from_bid
    & ~evaluator_not_cleared,
)
rules.add_perm("procurement.view_bids", can_see_internal_tenders | sits_on_opening_committee)
rules.add_perm("procurement.open_bids", sits_on_opening_committee & ~is_vendor_user)
rules.add_perm("procurement.manage_opening_committee", is_tender_officer)
rules.add_perm("accounts.manage_personal_key", is_signed_in & ~is_vendor_user)
rules.add_perm("procurement.delete_bid", rules.always_deny)

# People.
rules.add_perm("accounts.view_user", is_administrator | is_auditor)
rules.add_perm("accounts.add_user", is_administrator)
rules.add_perm("accounts.change_user", is_administrator)
rules.add_perm("accounts.delete_user", rules.always_deny)
rules.add_perm("auth.view_group", is_administrator | is_auditor)
rules.add_perm("auth.change_group", rules.always_deny)

# The audit log: read by auditors and administrators, written only by the system.
rules.add_perm("audit.view_auditevent", is_auditor | is_administrator)
rules.add_perm("audit.view_auditcheckpoint", is_auditor | is_administrator)
rules.add_perm("audit.add_auditevent", rules.always_deny)
rules.add_perm("audit.change_auditevent", rules.always_deny)
rules.add_perm("audit.delete_auditevent", rules.always_deny)
rules.add_perm("audit.add_auditcheckpoint", rules.always_deny)
rules.add_perm("audit.change_auditcheckpoint", rules.always_deny)
rules.add_perm("audit.delete_auditcheckpoint", rules.always_deny)

# The administration site (Django admin) and its module pages.
rules.add_perm("admin.access", is_administrator)
for app_label in ("procurement", "accounts", "auth", "audit"):
    rules.add_perm(app_label, is_administrator)

# Dashboards.
rules.add_perm("core.view_dashboard", is_signed_in)

# Vendors. The object is the vendor (for the list: nothing); for lifting, the debarment.


def _vendor_membership_of(user):
    """The user's membership of a vendor, if any (a person works for at most one vendor)."""
    if not (user and user.is_authenticated and user.is_active):
        return None
    from vendors.models import VendorMembership

    return VendorMembership.objects.filter(user=user).first()


@rules.predicate
def is_member_of_vendor(user, vendor) -> bool:
    membership = _vendor_membership_of(user)
    return vendor is not None and membership is not None and membership.vendor_id == vendor.pk


@rules.predicate
def administers_vendor(user, vendor) -> bool:
    membership = _vendor_membership_of(user)
    return (
        vendor is not None
        and membership is not None
        and membership.vendor_id == vendor.pk
        and membership.is_administrator
    )


@rules.predicate
def decided_debarment(user, debarment) -> bool:
    """Four eyes: whoever decided a debarment never lifts it."""
    return debarment is not None and user.pk == debarment.decided_by_id


can_see_all_vendors = is_officer | is_approver | is_auditor | is_administrator

rules.add_perm("vendors.view_vendor", (is_vendor_user & is_member_of_vendor) | can_see_all_vendors)
rules.add_perm("vendors.change_vendor", is_vendor_user & administers_vendor)
rules.add_perm("vendors.upload_vendor_document", is_vendor_user & is_member_of_vendor)
rules.add_perm("vendors.delete_vendor", rules.always_deny)
rules.add_perm("vendors.verify_vendor", is_officer)
rules.add_perm("vendors.suspend_vendor", is_officer)
rules.add_perm("vendors.reinstate_vendor", is_officer)
# Debarment excludes a company from all public procurement: the steering committee's decision.
rules.add_perm("vendors.debar_vendor", is_approver)
rules.add_perm("vendors.lift_debarment", is_approver & ~decided_debarment)
rules.add_perm("vendors.view_debarment", rules.always_allow)

# The administration site's read-only vendor pages.
rules.add_perm("vendors", is_administrator)
rules.add_perm("notifications", rules.always_deny)
rules.add_perm("vendors.view_vendordocument", is_administrator | is_auditor)
rules.add_perm("vendors.view_vendorcategory", rules.always_allow)

# Contracts. The object is the tender (add_contract) or the contract.


@rules.predicate
def administers_contract_vendor(user, contract) -> bool:
    """A vendor administrator of the contractor: its authorised signatory."""
    membership = _vendor_membership_of(user)
    return (
        contract is not None
        and membership is not None
        and membership.is_administrator
        and membership.vendor_id == getattr(contract, "vendor_id", None)
    )


@rules.predicate
def works_for_contractor(user, contract) -> bool:
    membership = _vendor_membership_of(user)
    return (
        contract is not None and membership is not None and membership.vendor_id == getattr(contract, "vendor_id", None)
    )


@rules.predicate
def approves_for_contract(user, contract) -> bool:
    return contract is not None and approves_for_tender(user, contract.tender)


is_contract_officer = is_officer & acts_for_object_agency

rules.add_perm(
    "contracts.view_contract",
    is_contract_officer
    | (is_approver & approves_for_contract)
    | (is_vendor_user & works_for_contractor)
    | is_auditor
    | is_administrator,
)
rules.add_perm("contracts.add_contract", is_contract_officer)
rules.add_perm("contracts.change_contract", is_contract_officer)
rules.add_perm("contracts.freeze_contract", is_contract_officer)
rules.add_perm("contracts.delete_contract", rules.always_deny)
rules.add_perm("contracts.sign_contract_for_vendor", is_vendor_user & administers_contract_vendor)
rules.add_perm("contracts.sign_contract_for_agency", is_contract_officer & ~is_vendor_user)
rules.add_perm("contracts.manage_signer_key", is_signed_in)

# The end of a contract (completion, termination) is decided by an approver for the agency, never by the
# contractor's side.
approves_end_of_contract = is_approver & approves_for_contract & ~is_vendor_user
rules.add_perm("contracts.complete_contract", approves_end_of_contract)
rules.add_perm("contracts.terminate_contract", approves_end_of_contract)

# Contract amendments: an officer of the agency drafts, an approver of the agency decides (never the person
# who drafted it: the service checks that), and the parties sign with the contract's own signing rules.
rules.add_perm("contracts.amend_contract", is_contract_officer & ~is_vendor_user)
rules.add_perm("contracts.approve_amendment", is_approver & approves_for_contract & ~is_vendor_user)

# Monitoring a contract in force: the contractor's people report progress and submit KPI measurements; the
# agency's officers decide on reports, confirm measurements and record payments.
rules.add_perm("contracts.report_progress", is_vendor_user & works_for_contractor)
rules.add_perm("contracts.monitor_contract", is_contract_officer & ~is_vendor_user)

# Desk (inquiries, suggestions and complaints) --------------------------------------------------------------
# The object is the desk item (or a FAQ entry). Anyone sends an item and follows it by its private link (no rule:
# the link is the permission). The agency's officers handle its items; its approvers (the supervisors overdue
# items are escalated to), auditors and administrators read them; nobody changes another agency's items.
is_desk_staff = is_officer | is_approver | is_auditor | is_administrator
handles_desk_item = is_officer & acts_for_object_agency & ~is_vendor_user

rules.add_perm("desk.view_queue", is_desk_staff)
rules.add_perm("desk.view_dashboard", is_desk_staff)


@rules.predicate
def supervises_item_agency(user, item) -> bool:
    """An approver of the item's agency or of one of its parents: overdue items of a department without its own
    approvers are escalated to its parent's (``desk.services.agency_supervisors``), who must then be able to
    open them."""
    if item is None or not user.agency_id:
        return False
    agency, seen = item.agency, set()
    while agency is not None and agency.pk not in seen:
        if agency.pk == user.agency_id:
            return True
        seen.add(agency.pk)
        agency = agency.parent
    return False


rules.add_perm(
    "desk.view_deskitem",
    (is_officer & acts_for_object_agency) | (is_approver & supervises_item_agency) | is_auditor | is_administrator,
)
rules.add_perm("desk.handle_item", handles_desk_item)
rules.add_perm("desk.publish_faq", handles_desk_item)
rules.add_perm("desk.add_deskitem", rules.always_deny)
rules.add_perm("desk.change_deskitem", rules.always_deny)
rules.add_perm("desk.delete_deskitem", rules.always_deny)
rules.add_perm("desk.delete_faqentry", rules.always_deny)
# End of the desk section ------------------------------------------------------------------------------------
