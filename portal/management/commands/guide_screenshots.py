"""Screenshots of the real system for the guides: each page of ``portal.guides.SCREENSHOTS`` rendered from the
demo data (``manage.py seed_demo``) through Django's test client, as the visitor or the demo account sees it,
turned into a PDF page by WeasyPrint with the site's stylesheet, and into a PNG by poppler's ``pdftoppm``.

    manage.py guide_screenshots                  # static/guides/{en,ar}/*.png
    manage.py guide_screenshots --language ar    # one language

Each PNG is reduced to a small palette so that it stays well under the page-weight budget (120 KB).
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.staticfiles import finders
from django.core.management.base import BaseCommand, CommandError
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import translation

from contracts.models import Contract, ContractStatus
from core.pdf import load_weasyprint
from portal.guides import SCREENSHOTS
from portal.selectors import public_contracts
from procurement.models import Tender
from procurement.models.tenders import TenderStatus

MAX_BYTES = 120 * 1024
#: The page as a 1000-pixel-wide window, one screen high; only the first page is kept. WeasyPrint shows hidden
#: inputs and does not read CSS variables inside SVG, so those get plain values here.
SCREEN_CSS = """
@page { size: 1000px 1250px; margin: 0 }
html { background: #f3f6f8 }
input[type="hidden"], .skip-link { display: none }
input, select, button, .button { min-height: 2.3em; line-height: 1.5 }
svg.progress-bar .track, .budget .track { fill: #e6ebef }
svg.progress-bar .fill, .budget .fill, .timeline .status-in_progress rect { fill: #0b5563 }
svg.progress-bar.delivery .fill, .timeline .status-completed rect { fill: #1f6f3f }
.timeline .status-upcoming rect { fill: #8d99a6 }
.timeline .grid { stroke: #c9d2da } .timeline .today { stroke: #b3541e }
"""


def _register() -> str:
    return reverse("vendors:register")


def _tender_list() -> str:
    return reverse("portal:tender_list")


def _tender() -> str:
    tender = (
        Tender.objects.public().filter(status=TenderStatus.PUBLISHED).order_by("submission_deadline").first()
        or Tender.objects.public().order_by("-id").first()
    )
    if tender is None:
        raise CommandError("The demo has no public tender: run manage.py seed_demo first.")
    return tender.get_public_url()


def _bids() -> str:
    return reverse("procurement:bid_list")


def _vendor_contract(account: str) -> str:
    contract = (
        Contract.objects.filter(vendor__memberships__user__email=account, status=ContractStatus.ACTIVE)
        .order_by("-activated_at")
        .first()
    )
    if contract is None:
        raise CommandError(f"The demo has no active contract of {account}'s company: run manage.py seed_demo.")
    return reverse("contracts:contract_detail", args=[contract.pk])


def _home() -> str:
    return reverse("core:home")


def _public_contract() -> str:
    contract = public_contracts().order_by("-activated_at").first()
    if contract is None:
        raise CommandError("The demo has no signed contract: run manage.py seed_demo first.")
    return reverse("portal:contract_detail", args=[contract.number])


PAGES = {
    "register": lambda account: _register(),
    "tender_list": lambda account: _tender_list(),
    "tender": lambda account: _tender(),
    "bids": lambda account: _bids(),
    "vendor_contract": _vendor_contract,
    "home": lambda account: _home(),
    "public_contract": lambda account: _public_contract(),
}


def _stylesheet_links():
    return re.compile(r'<link rel="stylesheet" href="[^"]*">')


def _site_css(weasyprint) -> list:
    """The site's own stylesheet, read from the static files (WeasyPrint fetches nothing over the network)."""
    found = finders.find("css/app.css")
    if not found:
        raise CommandError("static/css/app.css is missing.")
    return [weasyprint.CSS(string=Path(found).read_text()), weasyprint.CSS(string=SCREEN_CSS)]


def _shrink(png: bytes) -> bytes:
    """A palette of at most 64 colours: text and flat UI survive it, and the file becomes a fraction."""
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    for colours in (64, 32, 16):
        out = io.BytesIO()
        image.quantize(colors=colours, method=Image.Quantize.MEDIANCUT).save(out, format="PNG", optimize=True)
        if out.tell() < MAX_BYTES:
            return out.getvalue()
    raise CommandError(f"A screenshot stays over {MAX_BYTES} bytes even with 16 colours.")


class Command(BaseCommand):
    help = "Render the guides' screenshots from the real pages with the demo data into static/guides/."

    def add_arguments(self, parser):
        parser.add_argument("--language", action="append", choices=[code for code, _name in settings.LANGUAGES])
        parser.add_argument("--output", default=str(Path(settings.BASE_DIR) / "static" / "guides"))
        parser.add_argument("--resolution", type=int, default=64, help="pdftoppm's dots per inch (96 = 1:1)")

    def handle(self, *args, **options):
        pdftoppm = shutil.which("pdftoppm")
        if not pdftoppm:
            raise CommandError("pdftoppm is missing: install poppler-utils.")
        weasyprint = load_weasyprint()
        stylesheets = _site_css(weasyprint)
        languages = options["language"] or [code for code, _name in settings.LANGUAGES]
        output = Path(options["output"])
        users = get_user_model().objects
        with override_settings(ALLOWED_HOSTS=["testserver"]), tempfile.TemporaryDirectory() as scratch:
            for language in languages:
                (output / language).mkdir(parents=True, exist_ok=True)
                for shot in SCREENSHOTS:
                    client = Client()
                    if shot.account:
                        client.force_login(users.get(email=shot.account))
                    with translation.override(language):
                        path = PAGES[shot.page](shot.account)
                    response = client.get(path, HTTP_ACCEPT_LANGUAGE=language)
                    if response.status_code != 200:
                        raise CommandError(f"{path} answered {response.status_code}.")
                    html = _stylesheet_links().sub("", response.content.decode())
                    pdf = Path(scratch) / f"{language}-{shot.name}.pdf"
                    weasyprint.HTML(string=html).write_pdf(pdf, stylesheets=stylesheets)
                    prefix = Path(scratch) / f"{language}-{shot.name}"
                    subprocess.run(  # noqa: S603  (a fixed program and our own files)
                        [pdftoppm, "-png", "-r", str(options["resolution"]), "-f", "1", "-l", "1", "-singlefile",
                         str(pdf), str(prefix)],
                        check=True,
                    )  # fmt: skip
                    png = _shrink(prefix.with_suffix(".png").read_bytes())
                    target = output / language / f"{shot.name}.png"
                    target.write_bytes(png)
                    if shot.account:
                        client.logout()
                    self.stdout.write(f"{target} ({len(png) // 1024} KB) ← {path}")
