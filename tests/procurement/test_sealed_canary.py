"""Nobody holding a copy of the database or of the file store can read a bid before the opening.

Bids are submitted with distinctive canary values (prices, line descriptions, answers, document contents),
including a modification (version 2), a withdrawn bid and an unsubmitted draft. Then every row of every table
(through the ORM and through raw SQL) and every file under MEDIA_ROOT is searched for the canaries, in several
encodings. After the opening the same search finds the opened canaries (so it would have caught them), and
still not the ones that were never to be opened (the withdrawn bid, version 1, the draft).

Runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import decimal
import json
import os
import re
import uuid
import zlib
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.core import mail
from django.db import connection
from django.template.loader import render_to_string

from procurement import bid_services, sealing
from procurement.models import BidFile, BidReceipt
from procurement.models.tenders import EvaluationMethod
from procurement.tasks import receipt_facts
from tests.procurement.bid_factories import (
    bidder,
    document,
    draft_data,
    open_bids,
    published_tender,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_keys_and_own_media(monkeypatch, settings, tmp_path):
    """Scrypt at test cost, and a MEDIA_ROOT of this test's own, so the walk sees only this test's files."""
    monkeypatch.setattr(sealing, "SCRYPT_N", 2**10)
    settings.MEDIA_ROOT = str(tmp_path / "media")


def canaries(tag: str, price: str) -> dict[str, str]:
    return {
        "price": price,
        "line": f"CANARY-LINE-{tag}",
        "answer": f"CANARY-ANSWER-{tag}",
        "document": f"CANARY-DOC-{tag}",
    }


#: Submitted and never changed; opened.
LIVE = canaries("7f3a", "987654.32")
#: Version 1 of the modified bid (replaced, never opened) and version 2 (opened).
FIRST_VERSION = canaries("v1-51c9", "876543.21")
SECOND_VERSION = canaries("v2-9e02", "765432.19")
#: Submitted, then withdrawn: never opened.
WITHDRAWN = canaries("wd-c4d1", "654321.87")
#: Saved as a draft, never submitted: never sealed, never opened.
DRAFT = canaries("dr-3b8e", "543219.76")

TECHNICAL = ("answer", "document")
FINANCIAL = ("price", "line")


def forms(value: str) -> set[bytes]:
    """The byte strings in which the canary could sit in a dump: as text (UTF-8, UTF-16), prices also without
    the decimal point or with thousands separators, and base64 / hex encodings of each."""
    texts = {value}
    if re.fullmatch(r"\d+\.\d\d", value):
        units, cents = value.split(".")
        texts |= {
            units + cents,  # in cents
            f"{int(units):,}.{cents}",
            f"{units},{cents}",
            f"{decimal.Decimal(value):E}",
            str(float(value)),
        }
    found: set[bytes] = set()
    for text in texts:
        raw = text.encode("utf-8")
        found |= {raw, text.encode("utf-16-le"), raw.hex().encode(), raw.hex().upper().encode()}
        for offset in range(3):  # base64 at each alignment: the part that does not depend on neighbours
            encoded = base64.b64encode(b"\0" * offset + raw)
            middle = encoded[4 if offset else 0 : -4]
            if len(middle) >= 8:
                found |= {middle, middle.replace(b"+", b"-").replace(b"/", b"_")}
    return found


def _bytes(value) -> bytes:
    if value is None:
        return b""
    if isinstance(value, memoryview):
        return value.tobytes()
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, default=str).encode("utf-8")
    return str(value).encode("utf-8")


def database_dump() -> list[tuple[str, bytes]]:
    """Every value of every row: once through each model's base manager, once with raw ``SELECT *``."""
    dump: list[tuple[str, bytes]] = []
    models = apps.get_models(include_auto_created=True)
    for model in models:
        for row in model._base_manager.all().values():
            for column, value in row.items():
                dump.append((f"orm:{model._meta.label}.{column}", _bytes(value)))
    tables = connection.introspection.table_names(include_views=False)
    assert {m._meta.db_table for m in models if m._meta.managed} <= set(tables)
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608 - names from the DB
            names = [c[0] for c in cursor.description]
            for row in cursor.fetchall():
                for column, value in zip(names, row, strict=True):
                    dump.append((f"sql:{table}.{column}", _bytes(value)))
    return dump


def _pdf_streams(data: bytes) -> list[bytes]:
    """The inflated content streams of a PDF (text in a PDF is usually compressed)."""
    inflated = []
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", data, re.DOTALL):
        try:
            inflated.append(zlib.decompress(match.group(1)))
        except zlib.error:
            continue
    return inflated


def file_store_dump() -> list[tuple[str, bytes]]:
    dump: list[tuple[str, bytes]] = []
    for folder, _dirs, names in os.walk(settings.MEDIA_ROOT):
        for name in names:
            path = Path(folder) / name
            data = path.read_bytes()
            dump.append((f"file:{path}", data))
            for number, stream in enumerate(_pdf_streams(data)):
                dump.append((f"file:{path}#stream{number}", stream))
    return dump


def other_outputs() -> list[tuple[str, bytes]]:
    """What else the system wrote: the e-mails sent, the receipts as rendered for their PDF."""
    dump = [(f"mail:{m.subject}", _bytes(m.subject + "\n" + m.body)) for m in mail.outbox]
    for message in mail.outbox:
        for content, _mimetype in getattr(message, "alternatives", []):
            dump.append((f"mail-html:{message.subject}", _bytes(content)))
    for receipt in BidReceipt.objects.all():
        html = render_to_string("procurement/bids/receipt_pdf.html", {"facts": receipt_facts(receipt)})
        dump.append((f"receipt-html:{receipt.number}", _bytes(html)))
    return dump


def everything() -> list[tuple[str, bytes]]:
    return database_dump() + file_store_dump() + other_outputs()


def where(dump: list[tuple[str, bytes]], value: str) -> list[str]:
    needles = forms(value)
    return sorted({place for place, haystack in dump for needle in needles if needle in haystack})


def submit(tender, admin, values: dict[str, str], *, bid=None, name: str = "offer.pdf", title: str = "Offer"):
    bid = bid or bid_services.bid_start(actor=admin, tender=tender)
    data = draft_data(tender, price=values["price"], description=values["line"], answer=values["answer"])
    bid_services.bid_save_draft(actor=admin, bid=bid, data=data)
    content = f"%PDF-1.7\n% {values['document']}\n1 0 obj << >> endobj\n%%EOF\n".encode()
    bid_services.bid_file_add(actor=admin, bid=bid, uploaded_file=document(content, name), title=title)
    bid_services.bid_submit(actor=admin, bid=bid)
    bid.refresh_from_db()
    return bid


@pytest.fixture
def sealed_bids(request, django_capture_on_commit_callbacks):
    """A tender with a live bid, a modified bid, a withdrawn bid and a draft, all full of canaries."""
    tender, members, _recovery = published_tender(evaluation_method=request.param)
    # The receipts' PDFs are rendered (on commit) for one of the two methods: they are slow to make.
    rendering = request.param == EvaluationMethod.LOWEST_PRICE
    with django_capture_on_commit_callbacks(execute=True) if rendering else contextlib.nullcontext():
        submit(tender, bidder()[1], LIVE)

        _vendor, modifier = bidder()
        modified = submit(tender, modifier, FIRST_VERSION)
        modified = bid_services.bid_start_modification(actor=modifier, bid=modified)
        for old in BidFile.objects.filter(bid=modified, in_draft=True):
            bid_services.bid_file_remove(actor=modifier, bid=modified, bid_file=old)
        modified = submit(tender, modifier, SECOND_VERSION, bid=modified)
        assert modified.version == 2

        _vendor, withdrawer = bidder()
        withdrawn = submit(tender, withdrawer, WITHDRAWN)
        bid_services.bid_withdraw(actor=withdrawer, bid=withdrawn)

        _vendor, drafter = bidder()
        drafting = bid_services.bid_start(actor=drafter, tender=tender)
        bid_services.bid_save_draft(
            actor=drafter,
            bid=drafting,
            data=draft_data(tender, price=DRAFT["price"], description=DRAFT["line"], answer=DRAFT["answer"]),
        )
        bid_services.bid_file_add(
            actor=drafter,
            bid=drafting,
            uploaded_file=document(f"%PDF-1.7\n% {DRAFT['document']}\n%%EOF\n".encode()),
            title="Draft offer",
        )
    return tender, members


BOTH_METHODS = pytest.mark.parametrize(
    "sealed_bids", [EvaluationMethod.LOWEST_PRICE, EvaluationMethod.QUALITY_COST], indirect=True
)
ALL_CANARIES = [LIVE, FIRST_VERSION, SECOND_VERSION, WITHDRAWN, DRAFT]


def test_the_forms_searched_include_the_plain_and_the_cents_price():
    assert {b"987654.32", b"98765432", b"987,654.32", b"987654,32"} <= forms("987654.32")
    assert b"CANARY-LINE-7f3a" in forms("CANARY-LINE-7f3a")
    assert base64.b64encode(b"CANARY-ANSWER-7f3a")[:-4] in forms("CANARY-ANSWER-7f3a")


@BOTH_METHODS
def test_before_the_opening_no_canary_is_anywhere_in_the_database_or_the_file_store(sealed_bids):
    dump = everything()
    assert any(place.startswith("file:") and "/sealed/" in place for place, _ in dump)  # the walk saw files
    assert any(place.startswith("sql:procurement_bidenvelope") for place, _ in dump)  # and the envelope rows
    tender, _members = sealed_bids
    if tender.evaluation_method == EvaluationMethod.LOWEST_PRICE:
        assert BidReceipt.objects.exclude(pdf="").count() == BidReceipt.objects.count() == 5
        assert sum(1 for place, _ in dump if "/receipts/" in place and "#stream" not in place) == 5

    leaks = {value: where(dump, value) for values in ALL_CANARIES for value in values.values() if where(dump, value)}

    assert leaks == {}


@BOTH_METHODS
def test_after_the_opening_the_same_search_finds_what_was_opened_and_only_that(sealed_bids):
    tender, members = sealed_bids
    lowest_price = tender.evaluation_method == EvaluationMethod.LOWEST_PRICE

    opening = open_bids(tender, members)

    assert opening.record["tampered"] == 0
    dump = everything()
    opened_kinds = TECHNICAL + (FINANCIAL if lowest_price else ())
    for values in (LIVE, SECOND_VERSION):
        for kind, value in values.items():
            places = where(dump, value)
            if kind in opened_kinds:
                assert places, f"{value} ({kind}) was opened but the search does not find it"
            else:
                assert places == [], f"{value} ({kind}) was not to be opened yet: {places}"
    if lowest_price:
        assert any(p.startswith("sql:procurement_bidenvelope.content") for p in where(dump, LIVE["price"]))
        assert any(p.startswith("sql:procurement_bidopening.record") for p in where(dump, LIVE["price"]))
    assert any(p.startswith("sql:procurement_bidenvelope.content") for p in where(dump, LIVE["answer"]))
    assert any(p.startswith("file:") for p in where(dump, LIVE["document"]))
    for values in (FIRST_VERSION, WITHDRAWN, DRAFT):
        for value in values.values():
            assert where(dump, value) == [], f"{value} was never to be opened"


def test_the_search_would_catch_a_canary_written_in_the_clear(tmp_path):
    """A control: the same dump finds a canary as soon as it is stored readably (a row and a file)."""
    from audit.services import audit_event_append

    assert where(everything(), LIVE["line"]) == []
    audit_event_append(action="test.leak", payload={"oops": LIVE["line"], "price": decimal.Decimal(LIVE["price"])})
    leak = Path(settings.MEDIA_ROOT) / "leak" / uuid.uuid4().hex
    leak.parent.mkdir(parents=True, exist_ok=True)
    leak.write_bytes(base64.b64encode(b"xx" + LIVE["document"].encode()))

    dump = everything()

    assert any(p.startswith("orm:audit.AuditEvent.payload") for p in where(dump, LIVE["line"]))
    assert any(p.startswith("sql:audit_auditevent") for p in where(dump, LIVE["line"]))
    assert any(p.startswith("sql:audit_auditevent") for p in where(dump, LIVE["price"]))
    assert where(dump, LIVE["document"]) == [f"file:{leak}"]


def test_a_saved_draft_is_not_readable_on_the_bid_row():
    """The draft is encrypted with the server key: the bid row shows only that a draft exists and when."""
    tender, _members, _recovery = published_tender()
    _vendor, admin = bidder()
    bid = bid_services.bid_start(actor=admin, tender=tender)
    bid_services.bid_save_draft(
        actor=admin, bid=bid, data=draft_data(tender, price=DRAFT["price"], answer=DRAFT["answer"])
    )
    bid.refresh_from_db()
    assert where([("bid.draft", bid.draft.encode())], DRAFT["answer"]) == []
    assert bid_services.read_draft(bid)["total_price"] == DRAFT["price"]
    assert bid.draft_saved_at is not None and bid.draft_saved_at <= datetime.datetime.now(datetime.UTC)


def test_a_documents_file_name_and_title_are_not_readable_before_the_opening():
    tender, _members, _recovery = published_tender()
    _vendor, admin = bidder()
    submit(tender, admin, LIVE, name=f"{LIVE['document']}-{LIVE['price']}.pdf", title=f"Title {LIVE['line']}")

    dump = everything()

    assert where(dump, LIVE["document"]) == []
    assert where(dump, LIVE["line"]) == []
