import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from audit.bundles import verify_bundle
from audit.keys import load_public_key_pem


class Command(BaseCommand):
    help = (
        "Check a contract's proof bundle offline: every hash link from its first event to the signed checkpoint, "
        "the checkpoint's signature, the completeness of the contract's trail, and every signed PDF against its "
        "SHA-256 and the log. Exits 1 and says what is wrong if anything is."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="The proof bundle (JSON) downloaded from the auditor's page.")
        parser.add_argument(
            "--key",
            action="append",
            default=[],
            metavar="PEM_FILE",
            help="Trust only checkpoints signed by this public key (repeatable); without it the key in the bundle "
            "is used and its id printed, to compare with the published one.",
        )

    def handle(self, *args, file: Path, key: list[str], **options):
        try:
            trusted = [load_public_key_pem(Path(path).read_bytes()) for path in key] or None
        except (OSError, ValueError) as error:
            raise CommandError(f"Cannot read the public key: {error}", returncode=2) from error
        try:
            bundle = json.loads(file.read_bytes())
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error}", returncode=2) from error
        except ValueError as error:
            raise CommandError(
                f"{file} is not a proof bundle: it is not valid JSON ({error}).", returncode=1
            ) from error
        report = verify_bundle(bundle, trusted=trusted)
        contract = bundle.get("contract", {}) if isinstance(bundle, dict) else {}
        self.stdout.write(f"Contract: {contract.get('reference', '?')}")
        self.stdout.write(
            f"Events checked: {report.events} (of the contract's trail: {report.trail_events}); "
            f"documents: {report.documents}"
        )
        for note in report.notes:
            self.stdout.write(f"Note: {note}")
        if not report.ok:
            for problem in report.problems:
                self.stderr.write(self.style.ERROR(problem))
            raise CommandError(f"{file}: the proof bundle does NOT verify.", returncode=1)
        self.stdout.write(self.style.SUCCESS("Bundle: OK — every link, the signed checkpoint and every document hold."))
