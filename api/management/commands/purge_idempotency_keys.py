from django.conf import settings
from django.core.management.base import BaseCommand

from api.idempotency import PURGE_BATCH_SIZE, purge_expired_idempotency_records


class Command(BaseCommand):
    help = (
        "Delete the stored answers of API requests sent with an Idempotency-Key once they are older than "
        "API_IDEMPOTENCY_RETENTION_HOURS (a retry after that is a new request), in batches. The deadline "
        "scheduler does this by itself; safe to run any number of times."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=PURGE_BATCH_SIZE, help="Records deleted per statement.")

    def handle(self, *args, **options):
        if options["batch_size"] < 1:
            self.stderr.write("--batch-size must be at least 1.")
            raise SystemExit(2)
        deleted = purge_expired_idempotency_records(batch_size=options["batch_size"])
        hours = settings.API_IDEMPOTENCY_RETENTION_HOURS
        self.stdout.write(f"Deleted {deleted} idempotency record(s) older than {hours} hour(s).")
