from django.core.management.base import BaseCommand

from audit.services import audit_checkpoint_create


class Command(BaseCommand):
    help = "Sign the current head of the audit log (run it on a schedule, e.g. hourly)."

    def handle(self, *args, **options):
        checkpoint = audit_checkpoint_create()
        if checkpoint is None:
            self.stdout.write("The audit log is empty: nothing to sign.")
            return
        self.stdout.write(
            self.style.SUCCESS(f"Checkpoint signed at event #{checkpoint.sequence} ({checkpoint.head_hash}).")
        )
