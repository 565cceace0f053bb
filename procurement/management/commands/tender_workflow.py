from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from procurement.workflow import workflow_mermaid

START = "<!-- tender-workflow:start -->"
END = "<!-- tender-workflow:end -->"


def readme_block() -> str:
    return f"{START}\n```mermaid\n{workflow_mermaid().rstrip()}\n```\n{END}"


class Command(BaseCommand):
    help = "Print the tender state machine as a Mermaid diagram drawn from the code (--readme: update README.md)."

    def add_arguments(self, parser):
        parser.add_argument("--readme", action="store_true", help="Write the diagram into README.md.")

    def handle(self, *args, **options):
        if not options["readme"]:
            self.stdout.write(workflow_mermaid())
            return
        path = Path(settings.BASE_DIR) / "README.md"
        text = path.read_text(encoding="utf-8")
        before, _, rest = text.partition(START)
        _, _, after = rest.partition(END)
        path.write_text(before + readme_block() + after, encoding="utf-8")
        self.stdout.write(f"Updated the tender workflow in {path}.")
