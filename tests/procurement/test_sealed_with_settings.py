"""Someone holding the database, the file store AND the server's settings (SECRET_KEY) before the opening.

The server key protects drafts while they are edited; it must never be what keeps a submitted bid sealed. So
everything the server key can decrypt is checked here for the canaries of submitted bids: document titles and
file names, the draft field, the opening's waiting share; and the consortium, which is sealed too.
"""

from __future__ import annotations

import pytest

from core import secrets
from procurement import bid_services
from procurement.models import Bid, BidConsortiumMember, BidFile
from tests.procurement.bid_factories import bidder, document, draft_data, published_tender

pytestmark = pytest.mark.django_db

TITLE = "CANARY-TITLE-3b9f"
NAME = "CANARY-NAME-51aa.pdf"


def _everything_the_server_key_opens() -> str:
    found = []
    for bid_file in BidFile.objects.all():
        for token in (bid_file.title_token, bid_file.name_token):
            if token:
                found.append(bid_file.title + bid_file.original_name)
    for bid in Bid.objects.exclude(draft=""):
        found.append(str(bid_services.read_draft(bid)))
    return "\n".join(found)


def test_a_submitted_bid_reads_nothing_with_the_database_and_the_server_key(settings):
    tender, _members, _recovery = published_tender()
    _vendor, admin = bidder()
    partner, _ = bidder()
    bid = bid_services.bid_start(actor=admin, tender=tender)
    data = draft_data(tender, price="424242.42")
    data["consortium"] = [{"vendor_id": str(partner.pk), "share": "37.5"}]
    bid_services.bid_save_draft(actor=admin, bid=bid, data=data)
    bid_services.bid_file_add(actor=admin, bid=bid, uploaded_file=document(name=NAME), title=TITLE)
    # While it is a draft, the vendor sees its own document names (server key).
    assert TITLE in _everything_the_server_key_opens()

    bid_services.bid_submit(actor=admin, bid=bid)

    readable = _everything_the_server_key_opens()
    for canary in (TITLE, NAME, "424242.42", "37.5"):
        assert canary not in readable
    assert not BidConsortiumMember.objects.filter(bid=bid).exists()
    (bid_file,) = BidFile.objects.filter(bid=bid)
    assert bid_file.names_sealed and TITLE.encode() not in bytes(bid_file.names_sealed)
    # The server key does not open the sealed names either.
    with pytest.raises(secrets.InvalidToken):
        secrets.decrypt(bytes(bid_file.names_sealed), purpose=f"bid-file-meta:{bid.pk}:{bid_file.label}")
