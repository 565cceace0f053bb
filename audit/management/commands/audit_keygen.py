from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from audit.keys import create_signing_key, load_signing_key, public_key_pem


class Command(BaseCommand):
    help = (
        "Create the audit checkpoint signing key (AUDIT_SIGNING_KEY_FILE) if it does not exist, and "
        "print its public key. Keep the public key offline: with it anyone can verify the log."
    )

    def handle(self, *args, **options):
        path = Path(settings.AUDIT_SIGNING_KEY_FILE)
        if path.exists():
            key = load_signing_key()
            self.stderr.write(f"{path} already exists; its public key is:")
        else:
            try:
                key = create_signing_key(path)
            except OSError as error:
                raise CommandError(f"Cannot write {path}: {error}") from error
            self.stderr.write(f"Created {path} (mode 600). Its public key is:")
        self.stdout.write(public_key_pem(key.public_key()))
