from django.core.management.base import BaseCommand

from procurement.tender_services import advance_deadlines


class Command(BaseCommand):
    help = (
        "Perform every time-driven transition that is due: close tenders whose submission deadline has passed, "
        "make awards final after their standstill, mark overdue milestones, suspend verified vendors whose "
        "mandatory documents have expired and end debarments whose period is over. Safe to run any number of "
        "times, and from several machines at once."
    )

    def handle(self, *args, **options):
        run = advance_deadlines()
        if run:
            self.stdout.write(self.style.SUCCESS(f"Closed {len(run)} tender(s): {', '.join(run)}"))
        if run.suspended_vendors:
            names = ", ".join(vendor.commercial_registration_number for vendor in run.suspended_vendors)
            self.stdout.write(self.style.SUCCESS(f"Suspended {len(run.suspended_vendors)} vendor(s): {names}"))
        if run.debarments_ended:
            names = ", ".join(vendor.commercial_registration_number for vendor in run.debarments_ended)
            self.stdout.write(
                self.style.SUCCESS(f"Ended the debarment of {len(run.debarments_ended)} vendor(s): {names}")
            )
        if not (run or run.suspended_vendors or run.debarments_ended):
            self.stdout.write("Nothing is due.")
