import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from vendors.services import end_expired_debarments, suspend_vendors_with_expired_documents


class Command(BaseCommand):
    help = (
        "Suspend every verified vendor whose mandatory documents have expired, end every debarment whose "
        "period is over, and tell the vendors' administrators. Safe to run any number of times."
    )

    def add_arguments(self, parser):
        parser.add_argument("--today", help="The date to judge expiry by (YYYY-MM-DD); the server's date by default.")

    def handle(self, *args, **options):
        today = timezone.localdate()
        if options.get("today"):
            try:
                today = datetime.date.fromisoformat(options["today"])
            except ValueError as error:
                raise CommandError(f"--today must be a date like 2026-01-31, not {options['today']!r}") from error
        suspended = suspend_vendors_with_expired_documents(today)
        if suspended:
            names = ", ".join(vendor.commercial_registration_number for vendor in suspended)
            self.stdout.write(self.style.SUCCESS(f"Suspended {len(suspended)} vendor(s): {names}"))
        else:
            self.stdout.write("No verified vendor has expired documents.")
        ended = end_expired_debarments(today)
        if ended:
            names = ", ".join(vendor.commercial_registration_number for vendor in ended)
            self.stdout.write(self.style.SUCCESS(f"Ended the debarment of {len(ended)} vendor(s): {names}"))
