import json
import sys

from django.core.management.base import BaseCommand, CommandError

from procurement.ocds import iter_releases, package_header


class Command(BaseCommand):
    help = (
        "Write one OCDS 1.1.5 release package (with the PPP profile's fields) of every public tender's releases, "
        "streaming in constant memory."
    )

    def add_arguments(self, parser):
        parser.add_argument("--output", "-o", help="The file to write (default: standard output).")

    def handle(self, *args, output=None, **options):
        try:
            handle = open(output, "w", encoding="utf-8") if output else sys.stdout  # noqa: SIM115
        except OSError as error:
            raise CommandError(f"Cannot write {output}: {error}") from error
        count = 0
        try:
            header = json.dumps(package_header(), ensure_ascii=False)
            handle.write(header[:-1] + ',"releases":[')
            for release in iter_releases():
                handle.write(("," if count else "") + json.dumps(release, ensure_ascii=False))
                count += 1
            handle.write("]}\n")
        finally:
            if output:
                handle.close()
        if output:
            self.stderr.write(f"Wrote {count} releases to {output}.")
