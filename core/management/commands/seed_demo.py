"""Load the demo: agencies, the National e-Government Programme and its phases, one account per role,
tenders in every state, vendors, an opening committee with personal keys, sealed bids (drafts, submitted
bids and one tender whose bids were opened), and tenders at each stage of the evaluation and the award (in
evaluation, awaiting the award's approval, in the standstill with a complaint, and awarded).

Safe to run any number of times: what exists is left as it is.
"""

import logging

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.test.utils import override_settings

from accounts.models import User
from accounts.services import user_create, user_set_roles
from audit.services import audit_checkpoint_create
from core import demo_data
from core.demo_bids import COMMITTEE, KEY_HOLDERS, demo_committee, seed_demo_bids, seed_demo_keys
from core.demo_contracts import contract_demo_guide, seed_demo_contracts
from core.demo_desk import desk_demo_guide, seed_demo_desk
from core.demo_evaluation import evaluation_demo_guide, seed_demo_evaluation
from core.demo_tenders import seed_demo_tenders
from core.demo_vendors import seed_demo_vendors
from procurement import services
from procurement.models import Agency, Programme


class Command(BaseCommand):
    help = "Load realistic bilingual demo data (idempotent) and print the demo accounts."

    def handle(self, *args, **options):
        # The bid receipts' PDFs are rendered as the demo bids are submitted; the PDF library's step-by-step
        # log (and the font subsetter's) is noise here. A failed rendering is still kept on the receipt.
        for name in ("fontTools", "weasyprint", "weasyprint.progress"):
            logging.getLogger(name).setLevel(logging.ERROR)
        # The demo's own notifications stay in the app (in-app lists) instead of flooding the console.
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"), transaction.atomic():
            self.seed()
        # Signed after the commit: the evaluation reports are rendered by the recommendations' commit hooks, and
        # their audit events are covered too.
        checkpoint = audit_checkpoint_create()
        self.stdout.write(self.style.SUCCESS("Demo data is ready."))
        if checkpoint:
            self.stdout.write(f"Audit log signed at event #{checkpoint.sequence}.")
        self.print_accounts()
        self.print_evaluation_guide()
        self.print_contract_guide()
        self.print_desk_guide()

    def seed(self):
        admin = self._account(*demo_data.ACCOUNTS[0], actor=None)
        agencies = self._agencies(admin)
        for account in demo_data.ACCOUNTS[1:]:
            self._account(*account, actor=admin, agencies=agencies)
        programme = self._programme(admin, agencies)
        self._phases(admin, programme)
        officer = User.objects.get(email="officer@demo.gov")
        approver = User.objects.get(email="approver@demo.gov")
        made_keys = seed_demo_keys()
        if made_keys:
            self.stdout.write(f"Set up {made_keys} personal key(s) for opening bids.")
        committee = demo_committee()
        tenders = seed_demo_tenders(
            programme=programme,
            officer=officer,
            approver=approver,
            vendor=User.objects.get(email="vendor@demo.gov"),
            committee=committee,
        )
        if tenders:
            self.stdout.write(f"Created {tenders} demo tender(s).")
        vendors = seed_demo_vendors(officer=officer, approver=approver)
        if vendors:
            self.stdout.write(f"Created {vendors} demo vendor(s).")
        bids = seed_demo_bids(programme=programme, officer=officer, approver=approver, committee=committee)
        if bids:
            self.stdout.write(f"Created {bids} demo bid(s).")
        evaluated = seed_demo_evaluation(programme=programme, officer=officer, approver=approver, committee=committee)
        if evaluated:
            self.stdout.write(f"Created {evaluated} demo tender(s) at the evaluation and award stages.")
        if getattr(settings, "CONTRACT_CA_KEY_PASSPHRASE", None):
            contracts = seed_demo_contracts(officer=officer, programme=programme, committee=committee)
            if contracts:
                self.stdout.write(f"Created {contracts} demo contract(s), in every state of the contract workflow.")
        else:
            self.stdout.write("No demo contract: set CONTRACT_CA_KEY_PASSPHRASE to create the contract CA.")
        desk_items = seed_demo_desk(officer=officer, colleague=User.objects.get(email="officer2@demo.gov"))
        if desk_items:
            self.stdout.write(f"Created {desk_items} demo desk item(s) (inquiries, suggestions and complaints).")
        if tenders or bids or evaluated:
            self.stdout.write(
                "Recovery shares of the demo tenders were discarded; in the app the approver is shown each "
                "tender's recovery share once, on the page that confirms the approval."
            )

    def _account(self, email, name, name_ar, agency_code, roles, staff, *, actor, agencies=None):
        user = User.objects.filter(email=email).first()
        agency = (agencies or {}).get(agency_code)
        if user is None:
            user = user_create(
                actor=actor,
                email=email,
                full_name=name,
                full_name_ar=name_ar,
                password=demo_data.DEMO_PASSWORD,
                agency=agency,
                is_staff=staff,
            )
        user_set_roles(actor=actor, user=user, roles=roles)
        return user

    def _agencies(self, admin) -> dict[str, Agency]:
        result: dict[str, Agency] = {}
        for code, parent, kind, name_en, name_ar in demo_data.AGENCIES:
            agency = Agency.objects.filter(code=code).first()
            if agency is None:
                agency = services.agency_create(
                    actor=admin,
                    data={
                        "code": code,
                        "parent": result.get(parent),
                        "kind": kind,
                        "name_en": name_en,
                        "name_ar": name_ar,
                        # The ministry running the demo tenders publishes its signed contracts on the portal.
                        "publishes_signed_contracts": code == "MCIT",
                    },
                )
            result[code] = agency
        return result

    def _programme(self, admin, agencies) -> Programme:
        spec = dict(demo_data.PROGRAMME)
        programme = Programme.objects.filter(code=spec["code"]).first()
        if programme is None:
            sponsor = agencies[spec.pop("sponsor")]
            committee = list(User.objects.filter(groups__name="approver"))
            programme = services.programme_create(
                actor=admin, data={**spec, "sponsor_agency": sponsor}, steering_committee=committee
            )
        return programme

    def _phases(self, admin, programme) -> None:
        existing = set(programme.phases.values_list("order", flat=True))
        for phase in demo_data.PHASES:
            if phase["order"] not in existing:
                services.phase_create(actor=admin, programme=programme, data=dict(phase))

    def print_accounts(self) -> None:
        self.stdout.write("")
        self.stdout.write(f"Demo accounts (password for all: {demo_data.DEMO_PASSWORD}):")
        for email, name, _name_ar, agency, roles, _staff in demo_data.ACCOUNTS:
            where = f" — {agency}" if agency else ""
            self.stdout.write(f"  {email:<22} {', '.join(roles)}{where}  ({name})")
        self.stdout.write("  vendor5@ / vendor6@demo.gov: two more verified companies (they have bids too)")
        self.stdout.write("  vendor2@ / vendor3@ / vendor4@demo.gov: pending, suspended and debarred companies")
        self.stdout.write(
            f"Opening committee of every demo tender: {', '.join(COMMITTEE)}. Personal keys (unlocked by the "
            f"same password) are set up for {', '.join(KEY_HOLDERS)}."
        )

    def print_contract_guide(self) -> None:
        lines = contract_demo_guide()
        if lines:
            self.stdout.write("")
            self.stdout.write("Demo contracts:")
            for line in lines:
                self.stdout.write(f"  {line}")

    def print_evaluation_guide(self) -> None:
        lines = evaluation_demo_guide(approver_email="approver@demo.gov")
        if lines:
            self.stdout.write("")
            self.stdout.write("Evaluation and award demo tenders:")
            for line in lines:
                self.stdout.write(f"  {line}")

    def print_desk_guide(self) -> None:
        lines = desk_demo_guide()
        if lines:
            self.stdout.write("")
            self.stdout.write("Demo desk items (private tracking links of the demo senders):")
            for line in lines:
                self.stdout.write(f"  {line}")
