"""The public pages of the portal: the home page, the search, agency, vendor, contract and programme pages,
the award feeds and the guides. What they show, what they never show (drafts, tenders awaiting approval,
sealed prices, unsigned contracts, draft amendments, vendors not verified, vendor users), and their
social-sharing tags."""

from __future__ import annotations

import datetime
from xml.etree import ElementTree

import pytest
from django.utils import timezone

from accounts.roles import Role
from contracts import performance
from contracts.models import ContractStatus
from procurement.models import Bid, Recommendation
from procurement.models.tenders import TenderStatus
from tests.accounts.factories import UserFactory
from tests.html_checks import check_page
from tests.portal.public_world import (
    contract_in,
    draft_amendment,
    milestone_of,
    pending_vendor,
    signed_by_both,
    tender_in,
    verified_vendor,
)
from tests.portal.test_portal import head_tags
from tests.procurement.factories import PhaseFactory
from tests.vendors.factories import member
from vendors.models import VendorCategory

ATOM_NS = {"atom": "http://www.w3.org/2005/Atom"}
SIGNED_SHA = "ab" * 32

#: Text that belongs to rows the public must not see; none of it may reach any public page or feed.
SECRETS = {
    "draft tender": "Draft tender KAPPA",
    "tender pending approval": "Pending tender LAMBDA",
    "tender cancelled before publication": "Cancelled draft MU",
    "draft contract": "Unsigned draft contract ZETA",
    "contract awaiting signatures": "Contract awaiting signatures ETA",
    "contract terminated before signing": "Never signed THETA",
    "draft amendment's reason": "Secret amendment reason IOTA",
    "draft amendment's value": "7,777,777.77",
    "draft amendment's milestone": "Milestone of a draft amendment NU",
    "sealed bid draft": "SEALED-PRICE-987654321",
    "price in a recommendation awaiting approval": "4,444,444.44",
    "vendor pending verification": "Pending Vendor OMICRON",
    "vendor user's name": "Vendor Person RHO",
    "vendor user's e-mail": "rho.person@vendor.example.com",
    "vendor's tax number": "TAX-SECRET-SIGMA",
}


def parse_feed(response) -> ElementTree.Element:
    return ElementTree.fromstring(response.content)  # noqa: S314  (our own output)


@pytest.fixture
def phase(programme):
    return PhaseFactory(
        programme=programme,
        order=1,
        name_en="Unified portal",
        name_ar="البوابة الموحدة",
        start_date=datetime.date(2026, 1, 1),
        end_date=datetime.date(2027, 12, 31),
    )


@pytest.fixture
def world(agency, officer, phase):
    """One of each thing the public may see, and one of each it must not."""
    make = {"phase": phase, "agency": agency, "officer": officer}
    winner = verified_vendor("Gulf Digital Services", tax_number="TAX-SECRET-SIGMA", website="https://gulf.example.com")
    winner.categories.set(VendorCategory.objects.all()[:2])
    person = member(winner, full_name="Vendor Person RHO", email="rho.person@vendor.example.com")
    hidden_vendor = pending_vendor("Pending Vendor OMICRON LLC")

    open_tender = tender_in(TenderStatus.PUBLISHED, reference="MCIT-2026-0001", title_en="Open portal tender", **make)
    Bid.objects.create(tender=open_tender, vendor=winner, created_by=person, draft="SEALED-PRICE-987654321")
    tender_in(TenderStatus.DRAFT, title_en="Draft tender KAPPA", **make)
    tender_in(TenderStatus.PENDING_APPROVAL, title_en="Pending tender LAMBDA", **make)
    cancelled = tender_in(TenderStatus.DRAFT, title_en="Cancelled draft MU", **make)
    type(cancelled).objects.filter(pk=cancelled.pk).update(status=TenderStatus.CANCELLED)
    in_award = tender_in(TenderStatus.AWARD_PENDING, title_en="Tender with an award pending", **make)
    bid = Bid.objects.create(tender=in_award, vendor=hidden_vendor, version=1, created_by=officer)
    Recommendation.objects.create(
        tender=in_award, bid=bid, reasons="Lowest price.", recommended_by=officer,
        evaluation={"results": [{"bid_id": bid.pk, "price": "4444444.44", "price_display": "4,444,444.44"}]},
    )  # fmt: skip

    signed = contract_in(
        ContractStatus.ACTIVE, vendor=winner, title="Signed portal contract ALPHA", value="1250000.00", **make
    )
    milestone_of(signed, order=1, delivered=True, title="Design approved")
    milestone_of(signed, order=2, delivered=False, title="Platform live")
    amendment = draft_amendment(signed, officer=officer, reason="Secret amendment reason IOTA", new_value="7777777.77")
    milestone_of(signed, order=3, delivered=False, title="Milestone of a draft amendment NU", amendment=amendment)
    signed_by_both(signed, officer=officer, sha256=SIGNED_SHA)
    completed = contract_in(ContractStatus.COMPLETED, vendor=winner, title="Completed contract BETA", **make)

    hidden = [
        contract_in(status, vendor=vendor, title=title, **make)
        for status, vendor, title in (
            (ContractStatus.DRAFT, winner, "Unsigned draft contract ZETA"),
            (ContractStatus.AWAITING_SIGNATURES, winner, "Contract awaiting signatures ETA"),
            (ContractStatus.TERMINATED, hidden_vendor, "Never signed THETA"),
        )
    ]
    return {
        "winner": winner,
        "hidden_vendor": hidden_vendor,
        "open_tender": open_tender,
        "signed": signed,
        "completed": completed,
        "hidden_contracts": hidden,
    }


def contract_url(contract, lang: str = "en") -> str:
    return f"/{lang}/portal/contracts/{contract.number}/"


def public_urls(world, programme, lang: str = "en") -> list[str]:
    winner, signed = world["winner"], world["signed"]
    return [
        f"/{lang}/",
        f"/{lang}/portal/search/?q=contract",
        f"/{lang}/portal/search/?q=tender",
        f"/{lang}/portal/search/?q=vendor",
        f"/{lang}/portal/agencies/MCIT/",
        f"/{lang}/portal/vendors/{winner.pk}/",
        contract_url(signed, lang),
        contract_url(world["completed"], lang),
        f"/{lang}/portal/programmes/{programme.pk}/",
        f"/{lang}/portal/feeds/awards.rss",
        f"/{lang}/portal/feeds/awards.atom",
        f"/{lang}/portal/feeds/agencies/MCIT/awards.rss",
        f"/{lang}/portal/feeds/agencies/MCIT/awards.atom",
        f"/{lang}/portal/feeds/tenders.rss",
        f"/{lang}/portal/feeds/agencies/MCIT/tenders.atom",
        f"/{lang}/portal/tenders/",
    ]


# What never reaches the public ---------------------------------------------------------------------


class TestNothingUnpublishedLeaks:
    @pytest.mark.parametrize("lang", ["en", "ar"])
    def test_no_public_page_or_feed_shows_a_draft_a_sealed_price_or_an_unsigned_contract(
        self, client, world, programme, lang
    ):
        # Searched in lower case and without thousands separators: the page repeats the query, not the secret.
        searches = [
            f"/{lang}/portal/search/?q={secret.split()[-1].lower().replace(',', '').split('@')[0]}"
            for secret in SECRETS.values()
        ]
        for url in public_urls(world, programme, lang) + searches:
            response = client.get(url)
            assert response.status_code == 200, url
            body = response.content.decode()
            found = [what for what, secret in SECRETS.items() if secret in body]
            assert found == [], f"{url} shows the {found}"
            for contract in world["hidden_contracts"]:
                assert str(contract.number) not in body, url

    @pytest.mark.parametrize("who", ["anonymous", "vendor_user", "officer"])
    def test_an_unsigned_contract_has_no_public_page_whoever_asks(self, request, client, world, who):
        if who != "anonymous":
            client.force_login(request.getfixturevalue(who))
        for contract in world["hidden_contracts"]:
            assert client.get(contract_url(contract)).status_code == 404
        assert client.get("/en/portal/contracts/00000000-0000-0000-0000-000000000000/").status_code == 404

    def test_a_vendor_that_is_not_verified_has_no_public_page(self, client, world):
        assert client.get(f"/en/portal/vendors/{world['hidden_vendor'].pk}/").status_code == 404
        assert client.get(f"/en/portal/vendors/{world['winner'].pk}/").status_code == 200

    def test_a_contract_of_a_suspended_vendor_stays_public_without_a_link_to_its_profile(self, client, world):
        type(world["winner"]).objects.filter(pk=world["winner"].pk).update(status="suspended")
        body = client.get(contract_url(world["signed"])).content.decode()
        assert "Gulf Digital Services" in body
        assert f"/en/portal/vendors/{world['winner'].pk}/" not in body
        assert client.get(f"/en/portal/vendors/{world['winner'].pk}/").status_code == 404

    def test_an_amendment_in_force_shows_with_its_milestones(self, client, world, officer):
        signed = world["signed"]
        amendment = signed.amendments.get()
        type(amendment).objects.filter(pk=amendment.pk).update(status="in_force", in_force_at=timezone.now())
        body = client.get(contract_url(signed)).content.decode()
        assert "Milestone of a draft amendment NU" in body
        assert "7,777,777.77 SAR" in body


# The pages -----------------------------------------------------------------------------------------


class TestHomePage:
    def test_open_tenders_closing_soonest_first_and_recent_contracts(self, client, world, agency, officer, phase):
        now = timezone.now()
        later = tender_in(
            TenderStatus.PUBLISHED, phase=phase, agency=agency, officer=officer, title_en="Closes later",
            submission_deadline=now + datetime.timedelta(days=60), opening_time=now + datetime.timedelta(days=61),
        )  # fmt: skip
        sooner = tender_in(
            TenderStatus.PUBLISHED, phase=phase, agency=agency, officer=officer, title_en="Closes sooner",
            submission_deadline=now + datetime.timedelta(days=12), opening_time=now + datetime.timedelta(days=13),
        )  # fmt: skip
        passed = tender_in(
            TenderStatus.PUBLISHED, phase=phase, agency=agency, officer=officer, title_en="Deadline gone"
        )
        type(passed).objects.filter(pk=passed.pk).update(
            clarification_deadline=now - datetime.timedelta(days=3),
            submission_deadline=now - datetime.timedelta(seconds=1),
            opening_time=now,
        )
        body = client.get("/en/").content.decode()
        open_part = body.split('id="open-tenders-heading"', 1)[1].split('id="recent-contracts-heading"', 1)[0]
        assert (
            open_part.index("Closes sooner") < open_part.index("Open portal tender") < open_part.index("Closes later")
        )
        assert "Deadline gone" not in open_part
        contracts_part = body.split('id="recent-contracts-heading"', 1)[1].split('id="programmes-heading"', 1)[0]
        assert "Signed portal contract ALPHA" in contracts_part and "Completed contract BETA" in contracts_part
        assert contract_url(world["signed"]) in contracts_part
        assert sooner.get_public_url() in open_part and later.get_public_url() in open_part

    def test_the_programme_and_each_phase_with_progress_bars(self, client, world, programme):
        body = client.get("/en/").content.decode()
        part = body.split('id="programmes-heading"', 1)[1]
        assert programme.name_en in part and "1. Unified portal" in part
        # Two signed contracts in the phase; of their milestones due, the signed one's first is delivered.
        assert 'role="img" aria-label="1 of 2 milestones due delivered"' in part
        assert f'href="/en/portal/programmes/{programme.pk}/"' in part

    def test_the_links_to_search_debarments_open_data_feeds_and_guides(self, client, world):
        body = client.get("/en/").content.decode()
        for href in (
            'action="/en/portal/search/"',
            'href="/en/vendors/debarments/"',
            'href="/ocds/releases.json"',
            'href="/en/portal/feeds/awards.rss"',
            'href="/en/portal/guides/"',
        ):
            assert href in body
        assert client.get("/en/vendors/debarments/").status_code == 200


class TestSearch:
    def test_results_in_three_groups(self, client, world):
        body = client.get("/en/portal/search/", {"q": "gulf"}).content.decode()
        vendors = body.split('id="vendors-heading"', 1)[1]
        awards = body.split('id="awards-heading"', 1)[1].split('id="vendors-heading"', 1)[0]
        assert f'href="/en/portal/vendors/{world["winner"].pk}/"' in vendors
        assert "Signed portal contract ALPHA" in awards  # found by its contractor's name
        body = client.get("/en/portal/search/", {"q": "MCIT-2026-0001"}).content.decode()
        tenders = body.split('id="tenders-heading"', 1)[1].split('id="awards-heading"', 1)[0]
        assert "Open portal tender" in tenders

    @pytest.mark.parametrize("query", ["", "a", "   ", "<script>alert(1)</script>", "x" * 500, "%", "_"])
    def test_odd_queries_answer_a_page(self, client, world, query):
        response = client.get("/en/portal/search/", {"q": query})
        assert response.status_code == 200
        assert "<script>alert" not in response.content.decode()


class TestAgencyVendorContractProgramme:
    def test_the_agency_page_lists_its_published_tenders_and_signed_contracts_only(
        self, client, world, other_agency, officer
    ):
        other_phase = PhaseFactory(order=9)
        other = tender_in(TenderStatus.PUBLISHED, phase=other_phase, agency=other_agency, officer=officer)
        body = client.get("/en/portal/agencies/mcit/").content.decode()
        assert "Open portal tender" in body and "Tender with an award pending" in body
        assert other.reference not in body
        assert "Signed portal contract ALPHA" in body and "Completed contract BETA" in body
        assert 'href="/en/portal/feeds/agencies/MCIT/awards.rss"' in body
        assert client.get("/en/portal/agencies/NOPE/").status_code == 404

    def test_the_vendor_page_shows_categories_contracts_and_score_but_no_people(self, client, world):
        winner = world["winner"]
        body = client.get(f"/en/portal/vendors/{winner.pk}/").content.decode()
        for category in winner.categories.all():
            assert category.name_en in body
        assert "Signed portal contract ALPHA" in body and "Completed contract BETA" in body
        assert "Performance score" in body
        score = performance.vendor_scores([winner.pk], today=timezone.localdate())[winner.pk]["score"]
        assert f"<strong>{score}</strong> / 100" in body
        for private in (winner.email, winner.phone, winner.address, winner.commercial_registration_number):
            assert private not in body

    def test_the_contract_page_shows_parties_value_milestones_and_the_signed_pdf_fingerprint(self, client, world):
        signed = world["signed"]
        body = client.get(contract_url(signed)).content.decode()
        assert "Ministry of Communications" in body and "Gulf Digital Services" in body
        assert "1,250,000.00 SAR" in body
        assert "Design approved" in body and "Platform live" in body
        assert 'aria-label="1 of 2 milestones delivered"' in body
        assert SIGNED_SHA in body
        assert "1" * 64 not in body  # the vendor's signature alone is not the signed contract
        assert 'href="/en/contracts/verify/"' in body
        assert "/signatures/" not in body and ".pdf" not in body  # the PDF itself is not offered

    @pytest.mark.parametrize(("lang", "locale"), [("en", "en_US"), ("ar", "ar_AR")])
    def test_contract_and_programme_pages_carry_open_graph_and_twitter_tags(
        self, client, world, programme, lang, locale
    ):
        for url, title in (
            (contract_url(world["signed"], lang), f"{world['signed'].tender.reference} — Signed portal contract ALPHA"),
            (f"/{lang}/portal/programmes/{programme.pk}/", programme.name_ar if lang == "ar" else programme.name_en),
        ):
            tags = head_tags(client.get(url).content.decode())
            assert tags.meta["og:url"] == [f"http://testserver{url}"], url
            assert tags.meta["og:locale"] == [locale]
            assert tags.meta["og:title"][0].startswith(title), url
            assert tags.meta["og:description"][0]
            assert tags.meta["twitter:card"] == ["summary"]
            assert [link["href"] for link in tags.links if link.get("rel") == "canonical"] == [
                f"http://testserver{url}"
            ]


class TestAwardFeeds:
    def test_the_awards_feed_lists_signed_contracts_newest_first(self, client, world):
        items = parse_feed(client.get("/en/portal/feeds/awards.rss")).find("channel").findall("item")
        links = [item.findtext("link") for item in items]
        assert links == [
            f"http://testserver{contract_url(world['signed'])}",
            f"http://testserver{contract_url(world['completed'])}",
        ]
        assert "Gulf Digital Services" in items[0].findtext("description")
        assert "1,250,000.00 SAR" in items[0].findtext("description")

    def test_the_atom_feed_and_the_agency_feeds(self, client, world, other_agency):
        entries = parse_feed(client.get("/en/portal/feeds/awards.atom")).findall("atom:entry", ATOM_NS)
        assert len(entries) == 2
        assert parse_feed(client.get("/en/portal/feeds/agencies/MOH/awards.rss")).find("channel").findall("item") == []
        assert (
            len(parse_feed(client.get("/en/portal/feeds/agencies/MCIT/awards.atom")).findall("atom:entry", ATOM_NS))
            == 2
        )
        assert client.get("/en/portal/feeds/agencies/NOPE/awards.rss").status_code == 404

    def test_the_feed_speaks_arabic_on_the_arabic_address(self, client, world):
        channel = parse_feed(client.get("/ar/portal/feeds/awards.rss")).find("channel")
        assert channel.findtext("language") == "ar"


class TestGuides:
    @pytest.mark.parametrize("lang", ["en", "ar"])
    def test_each_guide_shows_real_screenshots_with_alt_text(self, client, lang):
        from django.contrib.staticfiles import finders

        for slug in ("register", "bid", "sign", "track"):
            response = client.get(f"/{lang}/portal/guides/{slug}/")
            assert response.status_code == 200
            images = [part.split('"', 1)[0] for part in response.content.decode().split('<img src="')[1:]]
            for src in images:
                assert src.startswith(f"/static/guides/{lang}/"), src
                assert finders.find(src.removeprefix("/static/")), f"{src} is missing"
        assert client.get(f"/{lang}/portal/guides/nope/").status_code == 404


# Page quality --------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_every_public_page_is_accessible_and_works_without_javascript(client, world, programme, lang):
    urls = [url for url in public_urls(world, programme, lang) if "/feeds/" not in url]
    urls += [f"/{lang}/portal/search/", f"/{lang}/portal/guides/"] + [
        f"/{lang}/portal/guides/{slug}/" for slug in ("register", "bid", "sign", "track")
    ]
    vendor = UserFactory(roles=[Role.VENDOR_USER])
    titles = set()
    for signed_in in (False, True):
        if signed_in:
            client.force_login(vendor)
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, url
            html = response.content.decode()
            report = check_page(html)
            assert report.lang == lang and report.dir == ("rtl" if lang == "ar" else "ltr"), url
            assert report.main_count == 1 and html.count("<h1") == 1, url
            assert report.unlabelled_controls == [] and report.duplicate_ids == [], url
            assert report.dangling_references == [], url
            assert "<script" not in html and " style=" not in html and "<style" not in html, url
            assert all(" alt=" in tag for tag in html.split("<img")[1:]), url
            titles.add((signed_in, report.title))
    assert len(titles) == 2 * len(urls)  # every page has its own title


def test_the_signed_pdf_is_offered_only_when_the_agency_publishes_it(client, world, settings, tmp_path):
    import hashlib

    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from django.urls import reverse

    from contracts.models import ContractSignature
    from procurement.models import Agency

    settings.MEDIA_ROOT = tmp_path
    content = b"%PDF-1.7 signed by both"
    default_storage.save("contracts/agency.pdf", ContentFile(content))
    signed = world["signed"]
    both = ContractSignature.objects.get(version__contract=signed, party="agency")
    ContractSignature.objects.filter(pk=both.pk).update(sha256=hashlib.sha256(content).hexdigest())
    vendor_only = ContractSignature.objects.get(version__contract=signed, party="vendor")
    with translation_en():
        url = reverse("portal:contract_pdf", args=[signed.number, both.pk])
        earlier = reverse("portal:contract_pdf", args=[signed.number, vendor_only.pk])
    assert client.get(url).status_code == 404  # the agency does not publish its signed contracts

    Agency.objects.filter(pk=signed.agency_id).update(publishes_signed_contracts=True)
    body = client.get(contract_url(signed)).content.decode()
    assert url in body and earlier not in body
    response = client.get(url)
    assert response.status_code == 200 and response["X-Content-SHA256"] == hashlib.sha256(content).hexdigest()
    assert b"".join(response.streaming_content) == content
    assert client.get(earlier).status_code == 404  # only the PDF as both parties signed it
    with default_storage.open("contracts/agency.pdf", "wb") as handle:  # the stored file is changed
        handle.write(b"%PDF-1.7 forged")
    assert client.get(url).status_code == 404  # never passed off as the signed contract
    for hidden in world["hidden_contracts"]:
        with translation_en():
            assert client.get(reverse("portal:contract_pdf", args=[hidden.number, both.pk])).status_code == 404


def translation_en():
    from django.utils import translation

    return translation.override("en")
