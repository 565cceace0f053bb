"""Encryption with a key derived from the server's secret key, for data that must not lie readable in the
database but that the server itself needs back (a vendor's draft bid, an opening member's share while the
second member is awaited). It protects against a copy of the database alone — never against someone who
also holds the settings — so it is never what keeps a submitted bid sealed (``procurement/sealing.py`` is).
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

__all__ = ["InvalidToken", "decrypt", "encrypt"]


def _fernet(purpose: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"ppp-server-secret/v1", info=purpose.encode()).derive(
        settings.SECRET_KEY.encode()
    )
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt(data: bytes, *, purpose: str) -> bytes:
    return _fernet(purpose).encrypt(data)


def decrypt(token: bytes, *, purpose: str) -> bytes:
    """Raises ``InvalidToken`` if the token was altered, made for another purpose or with another secret."""
    return _fernet(purpose).decrypt(bytes(token))
