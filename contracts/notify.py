"""Who is told what about a contract: its signatories when a text awaits their signature, the agency's officers
when the contractor has signed, the agency's approvers when an amendment awaits a decision, and both parties
when a contract or an amendment comes into force or the contract ends. Each call is made inside the action's
transaction; the e-mails go after it commits (``notifications.services.notify``)."""

from __future__ import annotations

from accounts.models import User
from accounts.roles import Role
from notifications.services import notify
from procurement.tender_services import tender_officers


def contractor_signatories(contract) -> list[User]:
    """The contractor's administrators: its authorised signatories."""
    return list(
        User.objects.filter(
            vendor_membership__vendor_id=contract.vendor_id, vendor_membership__is_administrator=True, is_active=True
        )
    )


def agency_approvers(contract) -> list[User]:
    return list(User.objects.filter(groups__name=Role.APPROVER, agency_id=contract.agency_id, is_active=True))


def _context(contract, amendment=None, **extra) -> dict:
    context = {"contract_id": contract.pk, "contract": contract.reference, **extra}
    if amendment is not None:
        context["amendment"] = amendment.number
    return context


def contract_notify(kind: str, contract, *, recipients, amendment=None, **extra) -> None:
    notify(recipients=recipients, kind=kind, tender=contract.tender, context=_context(contract, amendment, **extra))


def both_parties(contract) -> list[User]:
    return contractor_signatories(contract) + tender_officers(contract.tender)
