"""The vendors' side of bids: drafts, documents, submission, modification, withdrawal, receipts."""

urlpatterns: list = []
