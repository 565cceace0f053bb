"""The canonical JSON text of audit records: the exact bytes that are hashed and signed."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder


def canonical_json(data: Any) -> str:
    """Sorted keys, no insignificant whitespace, UTF-8 text; dates, decimals and UUIDs as strings."""
    return json.dumps(data, cls=DjangoJSONEncoder, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def chain_hash(prev_hash: str, canonical: str) -> str:
    return hashlib.sha256((prev_hash + canonical).encode("utf-8")).hexdigest()
