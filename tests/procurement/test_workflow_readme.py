from pathlib import Path

from django.conf import settings

from procurement.management.commands.tender_workflow import readme_block


def test_readme_shows_the_tender_workflow_as_the_code_defines_it():
    """If a transition changes, run `manage.py tender_workflow --readme`: the README never drifts."""
    readme = (Path(settings.BASE_DIR) / "README.md").read_text(encoding="utf-8")
    assert readme_block() in readme
