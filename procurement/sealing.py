"""Cryptographic core of sealed bids: pure functions over bytes, no Django.

What it guarantees (SYSTEM.md, "Sealed bids", "Personal keys", "Two envelopes"):

* Every envelope (technical, financial, a file, ...) is encrypted with its own random 256-bit data key
  (AES-256-GCM, in authenticated chunks so files can be streamed); the data key is wrapped to the tender's
  X25519 public key (ephemeral-static ECDH, HKDF-SHA256, AES-256-GCM).
* The tender's private key is encrypted under a random 16-byte key-encryption key (KEK). The KEK is split
  with pycryptodome's Shamir secret sharing (``threshold`` of ``members + 1``): one share per opening-
  committee member, encrypted to that member's personal public key, plus one recovery share returned once
  as printable text for the agency's offline safe. Nothing stored by the server — database, file store,
  settings — is enough to rebuild the KEK: that needs two unlocked shares.
* A member's personal private key is encrypted under a key derived from their password (scrypt).
* Every AES-GCM operation authenticates the context it belongs to (tender reference, envelope kind, bid id,
  version, member id, share index) *and* the blob's whole header, so nothing can be moved from one
  tender, bid, envelope or member to another, nor any parameter altered, without failing authentication.

Byte format (format version 1, the same container for every artefact)::

    b"PPSEAL" | uint32 big-endian header length | header | body

``header`` is canonical JSON (sorted keys, no spaces, ASCII) carrying ``"v": 1`` (format version),
``"type"`` (``personal-key``, ``tender-key``, ``member-share``, ``envelope``), the algorithm names, every
parameter (salts, nonces, ephemeral public keys, scrypt cost, chunk size) in standard (padded) base64,
and the context the blob belongs to (for humans reading it years later; the authoritative context is the one
the caller passes in, which is bound as AES-GCM associated data). ``body`` is raw ciphertext. Blobs with an
unknown version are refused with :class:`UnsupportedFormat`.

Associated data of every AES-GCM call::

    b"ppp-sealing/v1|" + type + b"|" + canonical_json(context) + b"|" + header

(the wrapped data key of an envelope is the one exception: it sits inside the header, so its associated data
is the same string with type ``envelope-key`` and an empty header).

The tender private key is only ever rebuilt in memory (:func:`rebuild_tender_private_key`) and returned as
an object; nothing here writes it anywhere.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import io
import json
import os
import re
import struct
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, BinaryIO, NamedTuple

from Crypto.Protocol.SecretSharing import Shamir
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

__all__ = [
    "CHUNK_SIZE",
    "FORMAT_VERSION",
    "SCRYPT_N",
    "SCRYPT_P",
    "SCRYPT_R",
    "EnvelopeTampered",
    "FormatError",
    "InvalidShares",
    "PersonalKey",
    "SealedEnvelope",
    "SealedFile",
    "SealingError",
    "Share",
    "ShareTampered",
    "TenderKeyMaterial",
    "UnsupportedFormat",
    "WrongPassword",
    "WrongShares",
    "create_tender_key",
    "generate_personal_keypair",
    "open_envelope",
    "open_file",
    "open_share",
    "parse_recovery_share",
    "public_key_bytes",
    "read_header",
    "rebuild_tender_private_key",
    "seal_share_for",
    "rewrap_personal_key",
    "seal_envelope",
    "seal_file",
    "unlock_personal_key",
]

# --------------------------------------------------------------------------------------------------------------
# Parameters. Tests may lower SCRYPT_N (and CHUNK_SIZE) by monkeypatching the module; blobs record the values
# they were made with, so a blob made with any accepted cost stays readable whatever these are set to later.
# --------------------------------------------------------------------------------------------------------------

FORMAT_VERSION = 1
MAGIC = b"PPSEAL"

SCRYPT_N = 2**15  # production cost: ~32 MiB, ~0.1 s per derivation
SCRYPT_R = 8
SCRYPT_P = 1
SCRYPT_MAX_N = 2**20  # refuse blobs asking for more (denial of service through a forged header)

CHUNK_SIZE = 64 * 1024  # plaintext bytes per authenticated chunk of an envelope
MAX_CHUNK_SIZE = 16 * 1024 * 1024
MAX_HEADER_SIZE = 64 * 1024

ALG_X25519 = "X25519"
ALG_AEAD = "AES-256-GCM"
ALG_WRAP = "X25519-HKDF-SHA256-AES-256-GCM"
ALG_STREAM = "AES-256-GCM-STREAM"  # nonce = prefix(7) | chunk counter (uint32 BE) | last-chunk flag (1)
ALG_SCRYPT = "scrypt"
ALG_KEK_KDF = "HKDF-SHA256"
ALG_SHAMIR = "Shamir-GF(2^128)-pycryptodome"

TYPE_PERSONAL_KEY = "personal-key"
TYPE_TENDER_KEY = "tender-key"
TYPE_MEMBER_SHARE = "member-share"
TYPE_ENVELOPE = "envelope"
_TYPE_ENVELOPE_KEY = "envelope-key"

RECOVERY_SHARE_TITLE = "PPP-SEALING RECOVERY SHARE v1"

_DOMAIN = b"ppp-sealing/v1"
_KEY_SIZE = 32
_NONCE_SIZE = 12
_TAG_SIZE = 16
_KEK_SIZE = 16
_STREAM_PREFIX_SIZE = 7
_MIN_MEMBERS = 3
_MIN_THRESHOLD = 2
_MAX_SHARES = 255
_LABEL_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,199}$")


# --------------------------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------------------------


class SealingError(Exception):
    """Base class of every error raised by this module."""


class FormatError(SealingError, ValueError):
    """A blob is not a well-formed sealing blob of the expected type."""


class UnsupportedFormat(FormatError):
    """A blob declares a format version (or algorithm) this code does not know."""


class WrongPassword(SealingError):
    """The password does not unlock this personal key."""


class ShareTampered(SealingError):
    """A member share cannot be opened: wrong member key, wrong tender or member, or altered bytes."""


class InvalidShares(SealingError, ValueError):
    """The shares presented can never rebuild the key: too few, duplicated, or outside the tender's range."""


class WrongShares(SealingError):
    """The shares are well-formed but do not rebuild the tender key (GCM authentication failed)."""


class EnvelopeTampered(SealingError):
    """The envelope differs from its receipt, belongs elsewhere, or fails authentication."""


# --------------------------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PersonalKey:
    """A member's personal key pair: the public key (32 raw X25519 bytes) and the password-protected private key.

    ``blob`` is self-describing: it carries the scrypt salt and cost, the nonce and the public key.
    """

    public_key: bytes
    blob: bytes

    @property
    def kdf_params(self) -> dict[str, Any]:
        return dict(read_header(self.blob)["kdf"])


class Share(NamedTuple):
    """One Shamir share of a tender's key-encryption key: its index (1-based) and its 16-byte value."""

    index: int
    value: bytes

    def __repr__(self) -> str:  # never print the secret into logs or tracebacks
        return f"Share(index={self.index}, value=<{len(self.value)} bytes>)"


@dataclass(frozen=True)
class TenderKeyMaterial:
    """Everything :func:`create_tender_key` produces.

    Store ``public_key``, ``encrypted_private_key`` and ``member_shares``; print ``recovery_share`` once for
    the agency's offline safe and never store it.
    """

    tender_reference: str
    public_key: bytes
    encrypted_private_key: bytes
    member_shares: dict[str, bytes]
    recovery_share: str = field(repr=False)
    threshold: int = _MIN_THRESHOLD


@dataclass(frozen=True)
class SealedEnvelope:
    """A sealed envelope: the blob to store and its SHA-256 (lower-case hex) for the vendor's receipt."""

    blob: bytes
    sha256: str


@dataclass(frozen=True)
class SealedFile:
    """A sealed envelope streamed to a file: the SHA-256 (lower-case hex) and size of the bytes written."""

    sha256: str
    size: int


# --------------------------------------------------------------------------------------------------------------
# Encoding helpers
# --------------------------------------------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(value: Any, *, size: int | None = None, name: str = "field") -> bytes:
    if not isinstance(value, str):
        raise FormatError(f"{name}: expected base64 text")
    try:
        data = base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise FormatError(f"{name}: invalid base64") from exc
    if size is not None and len(data) != size:
        raise FormatError(f"{name}: expected {size} bytes, got {len(data)}")
    return data


def _canonical_json(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def _aad(blob_type: str, context: Mapping[str, Any], header: bytes) -> bytes:
    return b"|".join((_DOMAIN, blob_type.encode("ascii"), _canonical_json(dict(context)), header))


def _pack(header: Mapping[str, Any], body: bytes) -> tuple[bytes, bytes]:
    """Return (header bytes, full blob)."""
    header_bytes = _canonical_json(dict(header))
    if len(header_bytes) > MAX_HEADER_SIZE:
        raise FormatError("header too large")
    return header_bytes, MAGIC + struct.pack(">I", len(header_bytes)) + header_bytes + body


def _check_header(header_bytes: bytes, expected_type: str | None) -> dict[str, Any]:
    try:
        header = json.loads(header_bytes.decode("ascii"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise FormatError("header is not JSON") from exc
    if not isinstance(header, dict):
        raise FormatError("header is not a JSON object")
    version = header.get("v")
    if not isinstance(version, int) or isinstance(version, bool):
        raise FormatError("header has no format version")
    if version != FORMAT_VERSION:
        raise UnsupportedFormat(f"unsupported format version {version!r} (this code reads {FORMAT_VERSION})")
    if expected_type is not None and header.get("type") != expected_type:
        raise FormatError(f"expected a {expected_type!r} blob, got {header.get('type')!r}")
    return header


def _unpack(blob: bytes, expected_type: str | None) -> tuple[dict[str, Any], bytes, bytes]:
    """Split a blob into (parsed header, header bytes, body)."""
    if not isinstance(blob, bytes | bytearray | memoryview):
        raise FormatError("blob must be bytes")
    blob = bytes(blob)
    if len(blob) < len(MAGIC) + 4 or not blob.startswith(MAGIC):
        raise FormatError("not a sealing blob (bad magic)")
    (length,) = struct.unpack(">I", blob[len(MAGIC) : len(MAGIC) + 4])
    start = len(MAGIC) + 4
    if length > MAX_HEADER_SIZE or start + length > len(blob):
        raise FormatError("bad header length")
    header_bytes = blob[start : start + length]
    return _check_header(header_bytes, expected_type), header_bytes, blob[start + length :]


def read_header(blob: bytes) -> dict[str, Any]:
    """Parse and return the (unauthenticated) JSON header of any blob; raises on unknown versions."""
    return _unpack(blob, None)[0]


def _require(header: Mapping[str, Any], key: str, expected: Any) -> None:
    if header.get(key) != expected:
        raise UnsupportedFormat(f"unsupported {key}: {header.get(key)!r}")


def _int_field(mapping: Mapping[str, Any], key: str, *, low: int, high: int) -> int:
    value = mapping.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise FormatError(f"{key}: expected an integer in [{low}, {high}]")
    return value


def _label(value: Any, name: str) -> str:
    """Validate an identifier that goes into associated data and headers (no spaces, newlines, or '|')."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError(f"{name} must be a string or an integer")
    text = str(value)
    if not _LABEL_RE.match(text):
        raise ValueError(f"{name} {text!r} must be 1-200 characters of letters, digits and . _ : / -")
    return text


def _version(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError("version must be a non-negative integer")
    return value


def _password(value: Any) -> bytes:
    if not isinstance(value, str) or not value:
        raise ValueError("password must be a non-empty string")
    return unicodedata.normalize("NFC", value).encode("utf-8")


def public_key_bytes(private_key: X25519PrivateKey) -> bytes:
    """The 32 raw bytes of the public half of an X25519 private key."""
    return private_key.public_key().public_bytes_raw()


def _load_public_key(data: Any, name: str) -> X25519PublicKey:
    if not isinstance(data, bytes | bytearray) or len(data) != 32:
        raise ValueError(f"{name} must be 32 raw X25519 public key bytes")
    return X25519PublicKey.from_public_bytes(bytes(data))


def _ecdh_key(
    private_key: X25519PrivateKey, peer_public: bytes, *, ephemeral: bytes, recipient: bytes, label: str
) -> bytes:
    """Derive an AES-256 key from an X25519 exchange, bound to both public keys and a label."""
    try:
        shared = private_key.exchange(X25519PublicKey.from_public_bytes(peer_public))
    except ValueError as exc:  # low-order point: all-zero shared secret
        if ephemeral == peer_public:
            raise InvalidTag() from exc  # opening: someone forged the ephemeral key
        raise ValueError("unusable X25519 public key (low-order point)") from exc
    return HKDF(
        algorithm=hashes.SHA256(),
        length=_KEY_SIZE,
        salt=ephemeral + recipient,
        info=_DOMAIN + b"|ecdh|" + label.encode("ascii"),
    ).derive(shared)


# --------------------------------------------------------------------------------------------------------------
# Personal keys
# --------------------------------------------------------------------------------------------------------------


def _scrypt_key(password: bytes, kdf: Mapping[str, Any]) -> bytes:
    if not isinstance(kdf, Mapping):
        raise FormatError("kdf: expected an object")
    _require(kdf, "alg", ALG_SCRYPT)
    n = _int_field(kdf, "n", low=2, high=SCRYPT_MAX_N)
    if n & (n - 1):
        raise FormatError("kdf n must be a power of two")
    r = _int_field(kdf, "r", low=1, high=32)
    p = _int_field(kdf, "p", low=1, high=16)
    salt = _unb64(kdf.get("salt"), name="kdf salt")
    if not 16 <= len(salt) <= 64:
        raise FormatError("kdf salt: expected 16-64 bytes")
    return Scrypt(salt=salt, length=_KEY_SIZE, n=n, r=r, p=p).derive(password)


def _encrypt_personal_key(private_key: X25519PrivateKey, password: bytes) -> PersonalKey:
    public = public_key_bytes(private_key)
    kdf = {"alg": ALG_SCRYPT, "salt": _b64(os.urandom(16)), "n": SCRYPT_N, "r": SCRYPT_R, "p": SCRYPT_P}
    nonce = os.urandom(_NONCE_SIZE)
    header = {
        "v": FORMAT_VERSION,
        "type": TYPE_PERSONAL_KEY,
        "alg": ALG_X25519,
        "public_key": _b64(public),
        "kdf": kdf,
        "cipher": {"alg": ALG_AEAD, "nonce": _b64(nonce)},
    }
    header_bytes = _canonical_json(header)
    key = _scrypt_key(password, kdf)
    body = AESGCM(key).encrypt(nonce, private_key.private_bytes_raw(), _aad(TYPE_PERSONAL_KEY, {}, header_bytes))
    return PersonalKey(public_key=public, blob=_pack(header, body)[1])


def generate_personal_keypair(*, password: str) -> PersonalKey:
    """Create a new X25519 key pair whose private half is encrypted under a scrypt key derived from ``password``.

    Passwords are NFC-normalised and UTF-8 encoded. The cost is the module's current ``SCRYPT_N/R/P``.
    """
    return _encrypt_personal_key(X25519PrivateKey.generate(), _password(password))


def unlock_personal_key(*, blob: bytes, password: str) -> X25519PrivateKey:
    """Decrypt a personal private key; raises :class:`WrongPassword` if ``password`` is not the right one."""
    header, header_bytes, body = _unpack(blob, TYPE_PERSONAL_KEY)
    _require(header, "alg", ALG_X25519)
    cipher = header.get("cipher")
    if not isinstance(cipher, Mapping):
        raise FormatError("cipher: expected an object")
    _require(cipher, "alg", ALG_AEAD)
    nonce = _unb64(cipher.get("nonce"), size=_NONCE_SIZE, name="nonce")
    public = _unb64(header.get("public_key"), size=32, name="public_key")
    key = _scrypt_key(_password(password), header.get("kdf"))
    try:
        raw = AESGCM(key).decrypt(nonce, body, _aad(TYPE_PERSONAL_KEY, {}, header_bytes))
    except InvalidTag:
        raise WrongPassword("wrong password for this personal key") from None
    private_key = X25519PrivateKey.from_private_bytes(raw)
    if not hmac.compare_digest(public_key_bytes(private_key), public):
        raise FormatError("personal key does not match its public key")
    return private_key


def rewrap_personal_key(*, blob: bytes, old_password: str, new_password: str) -> bytes:
    """Re-encrypt a personal private key under a new password (fresh salt, current cost). Same key pair."""
    private_key = unlock_personal_key(blob=blob, password=old_password)
    return _encrypt_personal_key(private_key, _password(new_password)).blob


# --------------------------------------------------------------------------------------------------------------
# Tender key and shares
# --------------------------------------------------------------------------------------------------------------


def _share_context(tender_reference: str, member_id: str) -> dict[str, str]:
    return {"tender": tender_reference, "member": member_id}


def _tender_key_context(tender_reference: str) -> dict[str, str]:
    return {"tender": tender_reference}


def _kek_to_key(kek: bytes, salt: bytes, tender_reference: str) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(),
        length=_KEY_SIZE,
        salt=salt,
        info=_DOMAIN + b"|tender-kek|" + tender_reference.encode("ascii"),
    ).derive(kek)


def _encrypt_share(*, share: Share, member_public_key: bytes, tender_reference: str, member_id: str) -> bytes:
    ephemeral = X25519PrivateKey.generate()
    epk = public_key_bytes(ephemeral)
    key = _ecdh_key(ephemeral, member_public_key, ephemeral=epk, recipient=member_public_key, label=TYPE_MEMBER_SHARE)
    nonce = os.urandom(_NONCE_SIZE)
    header = {
        "v": FORMAT_VERSION,
        "type": TYPE_MEMBER_SHARE,
        "tender": tender_reference,
        "member": member_id,
        "index": share.index,
        "alg": ALG_WRAP,
        "epk": _b64(epk),
        "recipient": _b64(member_public_key),
        "nonce": _b64(nonce),
    }
    header_bytes = _canonical_json(header)
    aad = _aad(TYPE_MEMBER_SHARE, _share_context(tender_reference, member_id), header_bytes)
    return _pack(header, AESGCM(key).encrypt(nonce, share.value, aad))[1]


def seal_share_for(*, share: Share, recipient_public_key: bytes, tender_reference: str, recipient_id: str) -> bytes:
    """Encrypt an unlocked share to someone's personal public key (e.g. the first opening member's share, for
    the members who may complete the opening); it opens with :func:`open_share` and ``member_id=recipient_id``."""
    _load_public_key(recipient_public_key, "recipient public key")
    return _encrypt_share(
        share=share,
        member_public_key=bytes(recipient_public_key),
        tender_reference=_label(tender_reference, "tender_reference"),
        member_id=_label(recipient_id, "recipient_id"),
    )


def _recovery_checksum(tender_reference: str, index: int, value: bytes) -> str:
    digest = hashlib.sha256(b"|".join((_DOMAIN, b"recovery", tender_reference.encode("ascii"), b"%d" % index, value)))
    return digest.hexdigest()[:8].upper()


def _format_recovery_share(tender_reference: str, share: Share) -> str:
    code = base64.b32encode(share.value).decode("ascii").rstrip("=")
    grouped = "-".join(code[i : i + 4] for i in range(0, len(code), 4))
    return "\n".join(
        (
            RECOVERY_SHARE_TITLE,
            f"tender: {tender_reference}",
            f"index: {share.index}",
            f"share: {grouped}",
            f"check: {_recovery_checksum(tender_reference, share.index, share.value)}",
        )
    )


def parse_recovery_share(text: str, *, tender_reference: str) -> Share:
    """Parse the printable recovery share of ``tender_reference`` (as typed back from paper) into a :class:`Share`.

    Whitespace and case are forgiving; the 8-hex-digit check catches typing mistakes.
    """
    tender_reference = _label(tender_reference, "tender_reference")
    lines = [line.strip() for line in str(text).strip().splitlines() if line.strip()]
    if not lines or lines[0].upper() != RECOVERY_SHARE_TITLE.upper():
        raise UnsupportedFormat("not a version-1 recovery share")
    fields: dict[str, str] = {}
    for line in lines[1:]:
        key, sep, value = line.partition(":")
        if not sep:
            raise FormatError(f"recovery share: cannot read line {line!r}")
        fields[key.strip().lower()] = value.strip()
    if fields.get("tender") != tender_reference:
        raise InvalidShares("this recovery share belongs to another tender")
    try:
        index = int(fields.get("index", ""))
        code = re.sub(r"[\s-]", "", fields.get("share", "")).upper()
        value = base64.b32decode(code + "=" * (-len(code) % 8))
    except (ValueError, binascii.Error) as exc:
        raise FormatError("recovery share: unreadable index or share") from exc
    if len(value) != _KEK_SIZE or not 1 <= index <= _MAX_SHARES:
        raise FormatError("recovery share: bad index or share length")
    if not hmac.compare_digest(fields.get("check", "").upper(), _recovery_checksum(tender_reference, index, value)):
        raise FormatError("recovery share: check digits do not match (typing mistake?)")
    return Share(index, value)


def create_tender_key(
    *, tender_reference: str, member_public_keys: Mapping[str | int, bytes], threshold: int = _MIN_THRESHOLD
) -> TenderKeyMaterial:
    """Create a tender's key pair and split the right to use its private key among the committee.

    Members get share indexes 1..n in the sorted order of their ids (as strings); the recovery share is n+1.
    Any ``threshold`` of the n+1 shares rebuild the key. Refuses fewer than 3 members or a threshold below 2
    (or above the number of members, which would make the recovery share indispensable).
    """
    tender_reference = _label(tender_reference, "tender_reference")
    if isinstance(threshold, bool) or not isinstance(threshold, int) or threshold < _MIN_THRESHOLD:
        raise ValueError(f"threshold must be an integer of at least {_MIN_THRESHOLD}")
    members: dict[str, bytes] = {}
    for member_id, public_key in member_public_keys.items():
        key = _label(member_id, "member_id")
        if key in members:
            raise ValueError(f"member {key!r} given twice")
        _load_public_key(public_key, f"public key of member {key!r}")
        members[key] = bytes(public_key)
    if len(members) < _MIN_MEMBERS:
        raise ValueError(f"an opening committee needs at least {_MIN_MEMBERS} members")
    if len(set(members.values())) != len(members):
        raise ValueError("two members share the same public key")
    if threshold > len(members):
        raise ValueError("threshold cannot exceed the number of members")
    if len(members) + 1 > _MAX_SHARES:
        raise ValueError("too many members")

    tender_private = X25519PrivateKey.generate()
    tender_public = public_key_bytes(tender_private)
    kek = os.urandom(_KEK_SIZE)
    share_count = len(members) + 1
    shares = [Share(index, value) for index, value in Shamir.split(threshold, share_count, kek)]
    order = sorted(members)
    indexes = {member_id: position + 1 for position, member_id in enumerate(order)}
    recovery_index = share_count

    salt = os.urandom(16)
    nonce = os.urandom(_NONCE_SIZE)
    header = {
        "v": FORMAT_VERSION,
        "type": TYPE_TENDER_KEY,
        "tender": tender_reference,
        "alg": ALG_X25519,
        "public_key": _b64(tender_public),
        "sharing": {
            "alg": ALG_SHAMIR,
            "secret_size": _KEK_SIZE,
            "threshold": threshold,
            "shares": share_count,
            "members": indexes,
            "recovery_index": recovery_index,
        },
        "kdf": {"alg": ALG_KEK_KDF, "salt": _b64(salt)},
        "cipher": {"alg": ALG_AEAD, "nonce": _b64(nonce)},
    }
    header_bytes = _canonical_json(header)
    aad = _aad(TYPE_TENDER_KEY, _tender_key_context(tender_reference), header_bytes)
    body = AESGCM(_kek_to_key(kek, salt, tender_reference)).encrypt(nonce, tender_private.private_bytes_raw(), aad)
    encrypted_private_key = _pack(header, body)[1]

    by_index = {share.index: share for share in shares}
    member_shares = {
        member_id: _encrypt_share(
            share=by_index[indexes[member_id]],
            member_public_key=members[member_id],
            tender_reference=tender_reference,
            member_id=member_id,
        )
        for member_id in order
    }
    return TenderKeyMaterial(
        tender_reference=tender_reference,
        public_key=tender_public,
        encrypted_private_key=encrypted_private_key,
        member_shares=member_shares,
        recovery_share=_format_recovery_share(tender_reference, by_index[recovery_index]),
        threshold=threshold,
    )


def open_share(
    *, encrypted_share: bytes, member_private_key: X25519PrivateKey, tender_reference: str, member_id: str | int
) -> Share:
    """Decrypt a member's share with their unlocked personal key; refuses a share of another tender or member."""
    tender_reference = _label(tender_reference, "tender_reference")
    member_id = _label(member_id, "member_id")
    header, header_bytes, body = _unpack(encrypted_share, TYPE_MEMBER_SHARE)
    _require(header, "alg", ALG_WRAP)
    if header.get("tender") != tender_reference or header.get("member") != member_id:
        raise ShareTampered("this share belongs to another tender or member")
    index = _int_field(header, "index", low=1, high=_MAX_SHARES)
    epk = _unb64(header.get("epk"), size=32, name="epk")
    nonce = _unb64(header.get("nonce"), size=_NONCE_SIZE, name="nonce")
    recipient = public_key_bytes(member_private_key)
    try:
        key = _ecdh_key(member_private_key, epk, ephemeral=epk, recipient=recipient, label=TYPE_MEMBER_SHARE)
        aad = _aad(TYPE_MEMBER_SHARE, _share_context(tender_reference, member_id), header_bytes)
        value = AESGCM(key).decrypt(nonce, body, aad)
    except InvalidTag:
        raise ShareTampered("share does not open with this member's key (wrong member, tender or bytes)") from None
    if len(value) != _KEK_SIZE:
        raise ShareTampered("share has the wrong size")
    return Share(index, value)


def _coerce_share(item: Share | tuple[int, bytes] | str, tender_reference: str) -> Share:
    if isinstance(item, str):
        return parse_recovery_share(item, tender_reference=tender_reference)
    try:
        index, value = item
    except (TypeError, ValueError) as exc:
        raise InvalidShares("a share is an (index, 16 bytes) pair or a recovery share text") from exc
    if isinstance(index, bool) or not isinstance(index, int) or not isinstance(value, bytes | bytearray):
        raise InvalidShares("a share is an (index, 16 bytes) pair")
    if len(value) != _KEK_SIZE:
        raise InvalidShares("a share value is 16 bytes")
    return Share(index, bytes(value))


def rebuild_tender_private_key(
    *,
    material: TenderKeyMaterial | bytes,
    shares: Sequence[Share | tuple[int, bytes] | str],
    tender_reference: str | None = None,
) -> X25519PrivateKey:
    """Rebuild the tender private key, in memory only, from at least ``threshold`` distinct shares.

    ``material`` is the :class:`TenderKeyMaterial` or just its ``encrypted_private_key`` blob. ``shares`` are
    :class:`Share` / ``(index, bytes)`` pairs from :func:`open_share`, or the recovery share text. Raises
    :class:`InvalidShares` for too few or duplicate shares and :class:`WrongShares` if they do not fit.
    Pass ``tender_reference`` to also refuse key material belonging to another tender.
    """
    blob = material.encrypted_private_key if isinstance(material, TenderKeyMaterial) else material
    header, header_bytes, body = _unpack(blob, TYPE_TENDER_KEY)
    _require(header, "alg", ALG_X25519)
    stored_reference = _label(header.get("tender"), "tender")
    if tender_reference is not None and _label(tender_reference, "tender_reference") != stored_reference:
        raise WrongShares("this key material belongs to another tender")
    tender_reference = stored_reference
    sharing = header.get("sharing")
    kdf = header.get("kdf")
    cipher = header.get("cipher")
    if not all(isinstance(part, Mapping) for part in (sharing, kdf, cipher)):
        raise FormatError("tender key header is incomplete")
    _require(sharing, "alg", ALG_SHAMIR)
    _require(kdf, "alg", ALG_KEK_KDF)
    _require(cipher, "alg", ALG_AEAD)
    share_count = _int_field(sharing, "shares", low=_MIN_MEMBERS + 1, high=_MAX_SHARES)
    threshold = _int_field(sharing, "threshold", low=_MIN_THRESHOLD, high=share_count)
    salt = _unb64(kdf.get("salt"), size=16, name="kdf salt")
    nonce = _unb64(cipher.get("nonce"), size=_NONCE_SIZE, name="nonce")
    public = _unb64(header.get("public_key"), size=32, name="public_key")

    parsed = [_coerce_share(item, tender_reference) for item in shares]
    indexes = [share.index for share in parsed]
    if len(set(indexes)) != len(indexes):
        raise InvalidShares("the same share was given twice: two distinct members must act")
    if len(parsed) < threshold:
        raise InvalidShares(f"{threshold} distinct shares are needed, got {len(parsed)}")
    if any(not 1 <= index <= share_count for index in indexes):
        raise InvalidShares("a share index is outside this tender's range")

    kek = Shamir.combine([(share.index, share.value) for share in sorted(parsed)])
    aad = _aad(TYPE_TENDER_KEY, _tender_key_context(tender_reference), header_bytes)
    try:
        raw = AESGCM(_kek_to_key(kek, salt, tender_reference)).decrypt(nonce, body, aad)
    except InvalidTag:
        raise WrongShares("these shares do not rebuild this tender's key") from None
    private_key = X25519PrivateKey.from_private_bytes(raw)
    if not hmac.compare_digest(public_key_bytes(private_key), public):
        raise FormatError("tender private key does not match its public key")
    return private_key


# --------------------------------------------------------------------------------------------------------------
# Envelopes
# --------------------------------------------------------------------------------------------------------------


def _envelope_context(tender_reference: Any, envelope_kind: Any, bid_id: Any, version: Any) -> dict[str, Any]:
    return {
        "tender": _label(tender_reference, "tender_reference"),
        "kind": _label(envelope_kind, "envelope_kind"),
        "bid": _label(bid_id, "bid_id"),
        "version": _version(version),
    }


def _chunk_nonce(prefix: bytes, counter: int, last: bool) -> bytes:
    if counter >= 2**32:
        raise ValueError("envelope too large")
    return prefix + struct.pack(">I", counter) + (b"\x01" if last else b"\x00")


def _read_exact(source: BinaryIO, size: int) -> bytes:
    parts: list[bytes] = []
    remaining = size
    while remaining:
        data = source.read(remaining)
        if not data:
            break
        parts.append(data)
        remaining -= len(data)
    return b"".join(parts)


def _seal_stream(
    *, tender_public_key: bytes, context: dict[str, Any], source: BinaryIO, chunk_size: int
) -> Iterator[bytes]:
    _load_public_key(tender_public_key, "tender_public_key")
    if not 1 <= chunk_size <= MAX_CHUNK_SIZE:
        raise ValueError("chunk size out of range")
    data_key = os.urandom(_KEY_SIZE)
    ephemeral = X25519PrivateKey.generate()
    epk = public_key_bytes(ephemeral)
    wrap_key = _ecdh_key(ephemeral, tender_public_key, ephemeral=epk, recipient=tender_public_key, label=TYPE_ENVELOPE)
    wrap_nonce = os.urandom(_NONCE_SIZE)
    wrapped = AESGCM(wrap_key).encrypt(wrap_nonce, data_key, _aad(_TYPE_ENVELOPE_KEY, context, b""))
    prefix = os.urandom(_STREAM_PREFIX_SIZE)
    header = {
        "v": FORMAT_VERSION,
        "type": TYPE_ENVELOPE,
        **context,
        "wrap": {
            "alg": ALG_WRAP,
            "epk": _b64(epk),
            "recipient": _b64(tender_public_key),
            "nonce": _b64(wrap_nonce),
            "key": _b64(wrapped),
        },
        "data": {"alg": ALG_STREAM, "chunk_size": chunk_size, "nonce_prefix": _b64(prefix)},
    }
    header_bytes, start = _pack(header, b"")
    yield start
    aead = AESGCM(data_key)
    aad = _aad(TYPE_ENVELOPE, context, header_bytes)
    current = _read_exact(source, chunk_size)
    counter = 0
    while True:
        following = _read_exact(source, chunk_size) if len(current) == chunk_size else b""
        last = not following
        yield aead.encrypt(_chunk_nonce(prefix, counter, last), current, aad)
        if last:
            return
        current = following
        counter += 1


def seal_envelope(
    *,
    tender_public_key: bytes,
    tender_reference: str,
    envelope_kind: str,
    bid_id: str | int,
    version: int,
    plaintext: bytes,
) -> SealedEnvelope:
    """Encrypt one envelope for the tender; the returned ``sha256`` goes on the vendor's receipt."""
    context = _envelope_context(tender_reference, envelope_kind, bid_id, version)
    blob = b"".join(
        _seal_stream(
            tender_public_key=tender_public_key,
            context=context,
            source=io.BytesIO(bytes(plaintext)),
            chunk_size=CHUNK_SIZE,
        )
    )
    return SealedEnvelope(blob=blob, sha256=hashlib.sha256(blob).hexdigest())


def seal_file(
    *,
    tender_public_key: bytes,
    tender_reference: str,
    envelope_kind: str,
    bid_id: str | int,
    version: int,
    source: BinaryIO,
    destination: BinaryIO,
) -> SealedFile:
    """Stream ``source`` (read to its end) into a sealed envelope written to ``destination``, chunk by chunk.

    The output is byte-for-byte the same format as :func:`seal_envelope`.
    """
    context = _envelope_context(tender_reference, envelope_kind, bid_id, version)
    digest = hashlib.sha256()
    size = 0
    for piece in _seal_stream(
        tender_public_key=tender_public_key, context=context, source=source, chunk_size=CHUNK_SIZE
    ):
        destination.write(piece)
        digest.update(piece)
        size += len(piece)
    return SealedFile(sha256=digest.hexdigest(), size=size)


def _read_envelope_header(source: BinaryIO) -> tuple[dict[str, Any], bytes]:
    start = _read_exact(source, len(MAGIC) + 4)
    if len(start) != len(MAGIC) + 4 or not start.startswith(MAGIC):
        raise FormatError("not a sealing blob (bad magic)")
    (length,) = struct.unpack(">I", start[len(MAGIC) :])
    if length > MAX_HEADER_SIZE:
        raise FormatError("bad header length")
    header_bytes = _read_exact(source, length)
    if len(header_bytes) != length:
        raise FormatError("truncated header")
    return _check_header(header_bytes, TYPE_ENVELOPE), header_bytes


def _open_stream(*, tender_private_key: X25519PrivateKey, context: dict[str, Any], source: BinaryIO) -> Iterator[bytes]:
    """Yield the plaintext chunks of an envelope; every chunk is authenticated before it is yielded."""
    try:
        header, header_bytes = _read_envelope_header(source)
        if any(header.get(key) != value for key, value in context.items()):
            raise EnvelopeTampered("this envelope belongs to another tender, bid, kind or version")
        wrap, data = header.get("wrap"), header.get("data")
        if not isinstance(wrap, Mapping) or not isinstance(data, Mapping):
            raise FormatError("envelope header is incomplete")
        _require(wrap, "alg", ALG_WRAP)
        _require(data, "alg", ALG_STREAM)
        epk = _unb64(wrap.get("epk"), size=32, name="epk")
        wrap_nonce = _unb64(wrap.get("nonce"), size=_NONCE_SIZE, name="nonce")
        wrapped = _unb64(wrap.get("key"), size=_KEY_SIZE + _TAG_SIZE, name="wrapped key")
        prefix = _unb64(data.get("nonce_prefix"), size=_STREAM_PREFIX_SIZE, name="nonce prefix")
        chunk_size = _int_field(data, "chunk_size", low=1, high=MAX_CHUNK_SIZE)
    except UnsupportedFormat:
        raise
    except FormatError as exc:
        raise EnvelopeTampered(f"malformed envelope: {exc}") from exc
    recipient = public_key_bytes(tender_private_key)
    try:
        wrap_key = _ecdh_key(tender_private_key, epk, ephemeral=epk, recipient=recipient, label=TYPE_ENVELOPE)
        data_key = AESGCM(wrap_key).decrypt(wrap_nonce, wrapped, _aad(_TYPE_ENVELOPE_KEY, context, b""))
    except InvalidTag:
        raise EnvelopeTampered("the envelope key does not open with this tender key (wrong tender?)") from None
    aead = AESGCM(data_key)
    aad = _aad(TYPE_ENVELOPE, context, header_bytes)
    piece_size = chunk_size + _TAG_SIZE
    current = _read_exact(source, piece_size)
    counter = 0
    while True:
        following = _read_exact(source, piece_size) if len(current) == piece_size else b""
        last = not following
        if len(current) < _TAG_SIZE:
            raise EnvelopeTampered("envelope truncated")
        try:
            yield aead.decrypt(_chunk_nonce(prefix, counter, last), current, aad)
        except InvalidTag:
            raise EnvelopeTampered(f"chunk {counter} fails authentication") from None
        if last:
            return
        current = following
        counter += 1


def _check_receipt(actual: str, expected_sha256: str) -> None:
    if not isinstance(expected_sha256, str) or not hmac.compare_digest(actual, expected_sha256.strip().lower()):
        raise EnvelopeTampered("the envelope's SHA-256 differs from the receipt")


def open_envelope(
    *,
    tender_private_key: X25519PrivateKey,
    blob: bytes,
    expected_sha256: str,
    tender_reference: str,
    envelope_kind: str,
    bid_id: str | int,
    version: int,
) -> bytes:
    """Check an envelope against its receipt hash, then decrypt it. Raises :class:`EnvelopeTampered`."""
    context = _envelope_context(tender_reference, envelope_kind, bid_id, version)
    blob = bytes(blob)
    _check_receipt(hashlib.sha256(blob).hexdigest(), expected_sha256)
    return b"".join(_open_stream(tender_private_key=tender_private_key, context=context, source=io.BytesIO(blob)))


def open_file(
    *,
    tender_private_key: X25519PrivateKey,
    source: BinaryIO,
    destination: BinaryIO,
    expected_sha256: str,
    tender_reference: str,
    envelope_kind: str,
    bid_id: str | int,
    version: int,
) -> int:
    """Streaming :func:`open_envelope` for a seekable ``source``; writes the plaintext, returns its size.

    The receipt hash is checked in a first pass before anything is decrypted. If an exception is raised
    part-way (a chunk failing authentication), ``destination`` holds partial output: discard it.
    """
    context = _envelope_context(tender_reference, envelope_kind, bid_id, version)
    start = source.tell()
    digest = hashlib.sha256()
    for piece in iter(lambda: source.read(1024 * 1024), b""):
        digest.update(piece)
    _check_receipt(digest.hexdigest(), expected_sha256)
    source.seek(start)
    size = 0
    for chunk in _open_stream(tender_private_key=tender_private_key, context=context, source=source):
        destination.write(chunk)
        size += len(chunk)
    return size
