from django.core.management.base import BaseCommand

from procurement.tender_services import advance_deadlines


class Command(BaseCommand):
    help = (
        "Perform every time-driven tender transition that is due (close tenders whose submission deadline "
        "has passed). Safe to run any number of times, and from several machines at once."
    )

    def handle(self, *args, **options):
        closed = advance_deadlines()
        if closed:
            self.stdout.write(self.style.SUCCESS(f"Closed {len(closed)} tender(s): {', '.join(closed)}"))
        else:
            self.stdout.write("Nothing is due.")
