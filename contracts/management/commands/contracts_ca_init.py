from django.core.management.base import BaseCommand, CommandError

from contracts import pki
from contracts.services import authority_paths


class Command(BaseCommand):
    help = (
        "Create the contract certificate authority and its time-stamp authority: the CA certificate is written "
        "to CONTRACT_CA_CERT_FILE (publish it for validators), the TSA certificate and both private keys, "
        "encrypted with CONTRACT_CA_KEY_PASSPHRASE, next to it."
    )

    def add_arguments(self, parser):
        parser.add_argument("--common-name", default="PPP Contracts CA")
        parser.add_argument("--organisation", default="PPP Programme")
        parser.add_argument("--days", type=int, default=3650, help="How long the CA and the TSA are valid.")
        parser.add_argument("--force", action="store_true", help="Replace an existing CA (earlier keys stop working).")

    def handle(self, *args, common_name: str, organisation: str, days: int, force: bool, **options):
        paths = authority_paths()
        existing = [path for path in paths.values() if path.exists()]
        if existing and not force:
            raise CommandError(
                f"The contract CA already exists ({', '.join(map(str, existing))}); pass --force to replace it."
            )
        if days < 1:
            raise CommandError("--days must be at least 1.")
        passphrase = pki.ca_passphrase()
        ca_pem, ca_key_pem = pki.create_ca(common_name, organisation, days, passphrase=passphrase)
        ca_cert = pki.load_certificate(ca_pem)
        ca_key = pki.load_authority_key(ca_key_pem, passphrase=passphrase)
        tsa_pem, tsa_key_pem = pki.create_time_stamp_authority(
            ca_cert,
            ca_key,
            common_name=f"{organisation} Time-Stamp Authority",
            organisation=organisation,
            valid_days=days,
            passphrase=passphrase,
        )
        paths["ca_cert"].parent.mkdir(parents=True, exist_ok=True)
        for name, content in (("ca_key", ca_key_pem), ("tsa_key", tsa_key_pem)):
            path = paths[name]
            path.write_bytes(content)
            path.chmod(0o600)
        paths["tsa_cert"].write_bytes(tsa_pem)
        paths["ca_cert"].write_bytes(ca_pem)
        self.stdout.write(f"Contract CA certificate: {paths['ca_cert']}")
        self.stdout.write(f"Time-stamp authority certificate: {paths['tsa_cert']}")
        self.stdout.write(f"Encrypted keys: {paths['ca_key']}, {paths['tsa_key']}")
