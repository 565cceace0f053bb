from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from audit.keys import load_public_key_pem, load_signing_key
from audit.verification import verify_audit_log


class Command(BaseCommand):
    help = (
        "Walk the whole audit log, check every hash link and every signed checkpoint, and print a "
        "summary. Exits 1 and names the first broken event if anything was altered, removed, "
        "reordered, or cut from the end."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--public-key",
            action="append",
            default=[],
            metavar="PEM_FILE",
            help="Trust checkpoints signed by this public key (repeatable). Without it, the public half "
            "of the configured signing key is used.",
        )

    def handle(self, *args, **options):
        if options["public_key"]:
            try:
                keys = [load_public_key_pem(Path(p).read_bytes()) for p in options["public_key"]]
            except (OSError, ValueError) as error:
                raise CommandError(f"Cannot read the public key: {error}") from error
        else:
            keys = [load_signing_key().public_key()]

        result = verify_audit_log(keys)
        if not result.ok:
            self.stderr.write(self.style.ERROR(f"AUDIT LOG BROKEN at event #{result.problem.sequence}"))
            self.stderr.write(result.problem.reason)
            self.stderr.write(
                f"Verified before the break: {result.events_checked} events, {result.checkpoints_verified} checkpoints."
            )
            raise SystemExit(1)

        self.stdout.write(self.style.SUCCESS("Audit log verified."))
        self.stdout.write(f"Events checked: {result.events_checked}")
        self.stdout.write(f"Head: #{result.head_sequence} {result.head_hash}")
        latest = f" (latest covers #{result.latest_checkpoint})" if result.latest_checkpoint else ""
        self.stdout.write(f"Checkpoints verified: {result.checkpoints_verified}{latest}")
        for note in result.notes:
            self.stdout.write(note)
