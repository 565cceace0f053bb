"""Stored answers to bid requests kept the draft (prices, lines, answers) before the API withheld it: forget it.

From this change on, ``POST /api/v1/bids/`` stores its answer without ``draft`` and ``documents``, and a bid's
transitions without ``bid`` (see ``api.bid_views``); answers stored before it are cleaned the same way, so that
no sealed price stays in clear in this table (or its backups from now on)."""

from django.db import migrations

WITHHELD = ("draft", "documents", "bid")


def forget_drafts(apps, schema_editor):
    IdempotencyRecord = apps.get_model("api", "IdempotencyRecord")
    records = IdempotencyRecord.objects.filter(path__startswith="/api/v1/bids/").exclude(response_body=None)
    for record in records.only("pk", "response_body").iterator(chunk_size=500):
        body = record.response_body
        if isinstance(body, dict) and any(body.get(name) is not None for name in WITHHELD):
            record.response_body = {name: (None if name in WITHHELD else value) for name, value in body.items()}
            record.save(update_fields=["response_body"])


class Migration(migrations.Migration):
    dependencies = [("api", "0001_initial")]

    operations = [migrations.RunPython(forget_drafts, migrations.RunPython.noop)]
