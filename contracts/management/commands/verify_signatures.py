from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from contracts.pki import load_certificate
from contracts.signing import UnreadablePdf, format_report, validation_report


class Command(BaseCommand):
    help = (
        "Check every signature in a signed PDF: intact, valid, trusted, and the document not changed since "
        "in a way the signatures do not permit. Exits 1 if not."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="The signed PDF.")
        parser.add_argument(
            "--trust",
            type=Path,
            action="append",
            default=[],
            metavar="CA.pem",
            help="A trusted root certificate (PEM or DER); may be repeated. "
            "The contract CA's certificate (CONTRACT_CA_CERT_FILE) and the roots in CONTRACT_TRUSTED_ROOTS are "
            "trusted when they are configured.",
        )

    def handle(self, *args, file: Path, trust: list[Path], **options):
        roots = []
        configured = getattr(settings, "CONTRACT_CA_CERT_FILE", None)
        if configured and Path(configured).is_file():
            trust = [Path(configured), *trust]
        trust = [*trust, *(Path(p) for p in getattr(settings, "CONTRACT_TRUSTED_ROOTS", None) or [])]
        for path in trust:
            try:
                roots.append(load_certificate(path.read_bytes()))
            except (OSError, ValueError) as error:
                raise CommandError(f"Cannot read the trusted certificate {path}: {error}", returncode=2) from error
        if not roots:
            self.stderr.write("No trusted root: no signature can be trusted. Pass --trust CA.pem.")
        try:
            pdf_bytes = file.read_bytes()
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error}", returncode=2) from error
        try:
            report = validation_report(pdf_bytes, roots)
        except UnreadablePdf as error:
            raise CommandError(f"{file}: {error}") from error
        self.stdout.write(format_report(report))
        if not report.ok:
            raise CommandError(f"{file}: the signatures do not hold.", returncode=1)
