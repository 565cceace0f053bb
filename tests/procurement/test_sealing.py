"""The cryptographic core of sealed bids (procurement.sealing): pure functions, no database."""

import base64
import hashlib
import io
import itertools
import json
import random
import struct

import pytest

from procurement import sealing
from procurement.sealing import (
    EnvelopeTampered,
    FormatError,
    InvalidShares,
    Share,
    ShareTampered,
    UnsupportedFormat,
    WrongPassword,
    WrongShares,
)

CANARY = b"CANARY-PRICE-1234567.89"
TENDER = "MCIT-2025-0001"
OTHER_TENDER = "MCIT-2025-0002"
PASSWORDS = {"alice": "alice password 1", "bob": "bob password 2", "carol": "كلمة سر كارول 3"}


@pytest.fixture(autouse=True)
def fast_scrypt(monkeypatch):
    """Production cost is 2**15; tests use 2**10 so that the whole file runs in seconds."""
    monkeypatch.setattr(sealing, "SCRYPT_N", 2**10)


@pytest.fixture
def personal_keys():
    return {member: sealing.generate_personal_keypair(password=pw) for member, pw in PASSWORDS.items()}


def _material(personal_keys, tender=TENDER):
    return sealing.create_tender_key(
        tender_reference=tender,
        member_public_keys={member: key.public_key for member, key in personal_keys.items()},
    )


@pytest.fixture
def material(personal_keys):
    return _material(personal_keys)


def _member_share(material, personal_keys, member, tender=TENDER):
    private = sealing.unlock_personal_key(blob=personal_keys[member].blob, password=PASSWORDS[member])
    return sealing.open_share(
        encrypted_share=material.member_shares[member],
        member_private_key=private,
        tender_reference=tender,
        member_id=member,
    )


def _seal(material, plaintext=CANARY, tender=TENDER, kind="financial", bid_id=42, version=1):
    return sealing.seal_envelope(
        tender_public_key=material.public_key,
        tender_reference=tender,
        envelope_kind=kind,
        bid_id=bid_id,
        version=version,
        plaintext=plaintext,
    )


def _open(key, sealed, tender=TENDER, kind="financial", bid_id=42, version=1, expected=None):
    return sealing.open_envelope(
        tender_private_key=key,
        blob=sealed.blob,
        expected_sha256=sealed.sha256 if expected is None else expected,
        tender_reference=tender,
        envelope_kind=kind,
        bid_id=bid_id,
        version=version,
    )


def _rewrite_header(blob, change):
    """Re-encode a blob with its JSON header changed (as a future or forged writer would)."""
    (length,) = struct.unpack(">I", blob[6:10])
    header = json.loads(blob[10 : 10 + length])
    change(header)
    new = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    return blob[:6] + struct.pack(">I", len(new)) + new + blob[10 + length :]


# ---------------------------------------------------------------------------------------------------------------
# Round trip and the two-person rule
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("pair", list(itertools.combinations(sorted(PASSWORDS), 2)))
def test_any_two_of_three_members_open_the_bid(material, personal_keys, pair):
    sealed = _seal(material)
    shares = [_member_share(material, personal_keys, member) for member in pair]

    key = sealing.rebuild_tender_private_key(material=material, shares=shares, tender_reference=TENDER)

    assert sealing.public_key_bytes(key) == material.public_key
    assert _open(key, sealed) == CANARY


def test_all_three_members_together_also_open(material, personal_keys):
    shares = [_member_share(material, personal_keys, member) for member in PASSWORDS]
    key = sealing.rebuild_tender_private_key(material=material.encrypted_private_key, shares=shares)
    assert _open(key, _seal(material)) == CANARY


@pytest.mark.parametrize("member", sorted(PASSWORDS))
def test_one_member_and_the_recovery_share_open(material, personal_keys, member):
    share = _member_share(material, personal_keys, member)

    # the printable text itself, or the parsed share, both work
    for recovery in (
        material.recovery_share,
        sealing.parse_recovery_share(material.recovery_share, tender_reference=TENDER),
    ):
        key = sealing.rebuild_tender_private_key(material=material, shares=[share, recovery])
        assert _open(key, _seal(material)) == CANARY


def test_one_member_alone_cannot_open(material, personal_keys):
    share = _member_share(material, personal_keys, "alice")
    with pytest.raises(InvalidShares, match="2 distinct shares"):
        sealing.rebuild_tender_private_key(material=material, shares=[share])
    with pytest.raises(InvalidShares):
        sealing.rebuild_tender_private_key(material=material, shares=[])
    with pytest.raises(InvalidShares):
        sealing.rebuild_tender_private_key(material=material, shares=[material.recovery_share])


def test_the_same_member_twice_cannot_open(material, personal_keys):
    share = _member_share(material, personal_keys, "alice")
    again = _member_share(material, personal_keys, "alice")
    with pytest.raises(InvalidShares, match="twice"):
        sealing.rebuild_tender_private_key(material=material, shares=[share, again])
    # nor by faking a second index with the same value
    with pytest.raises(WrongShares):
        sealing.rebuild_tender_private_key(material=material, shares=[share, Share(share.index % 3 + 1, share.value)])


def test_a_wrong_combination_fails_authentication(material, personal_keys):
    share = _member_share(material, personal_keys, "alice")
    forged = Share(2 if share.index != 2 else 3, bytes(16))
    with pytest.raises(WrongShares):
        sealing.rebuild_tender_private_key(material=material, shares=[share, forged])
    with pytest.raises(InvalidShares, match="range"):
        sealing.rebuild_tender_private_key(material=material, shares=[share, Share(9, bytes(16))])
    with pytest.raises(InvalidShares):
        sealing.rebuild_tender_private_key(material=material, shares=[share, (2, b"short")])


def test_shares_of_another_tender_do_not_rebuild_this_key(personal_keys):
    a = _material(personal_keys, TENDER)
    b = _material(personal_keys, OTHER_TENDER)
    mixed = [_member_share(a, personal_keys, "alice"), _member_share(b, personal_keys, "bob", tender=OTHER_TENDER)]
    with pytest.raises(WrongShares):
        sealing.rebuild_tender_private_key(material=a, shares=mixed)
    b_shares = [_member_share(b, personal_keys, m, tender=OTHER_TENDER) for m in ("alice", "bob")]
    with pytest.raises(WrongShares):
        sealing.rebuild_tender_private_key(material=a, shares=b_shares)
    with pytest.raises(WrongShares, match="another tender"):
        sealing.rebuild_tender_private_key(material=b, shares=b_shares, tender_reference=TENDER)
    with pytest.raises(InvalidShares, match="another tender"):
        sealing.rebuild_tender_private_key(material=a, shares=[b.recovery_share, mixed[0]])


def test_a_share_opens_only_for_its_member_and_tender(material, personal_keys):
    bob = sealing.unlock_personal_key(blob=personal_keys["bob"].blob, password=PASSWORDS["bob"])
    alice_share = material.member_shares["alice"]
    with pytest.raises(ShareTampered):  # bob's key on alice's share
        sealing.open_share(
            encrypted_share=alice_share, member_private_key=bob, tender_reference=TENDER, member_id="bob"
        )
    with pytest.raises(ShareTampered):  # claimed as bob's
        sealing.open_share(
            encrypted_share=alice_share, member_private_key=bob, tender_reference=TENDER, member_id="alice"
        )
    with pytest.raises(ShareTampered):  # moved to another tender
        _member_share(material, personal_keys, "alice", tender=OTHER_TENDER)
    # header relabelled to pretend it is bob's: the header is authenticated
    relabelled = _rewrite_header(alice_share, lambda h: h.update(member="bob"))
    with pytest.raises(ShareTampered):
        sealing.open_share(encrypted_share=relabelled, member_private_key=bob, tender_reference=TENDER, member_id="bob")


def test_create_tender_key_refuses_a_small_committee_or_threshold(personal_keys):
    keys = {member: key.public_key for member, key in personal_keys.items()}
    with pytest.raises(ValueError, match="at least 3"):
        sealing.create_tender_key(tender_reference=TENDER, member_public_keys=dict(list(keys.items())[:2]))
    for threshold in (1, 0, -1, True):
        with pytest.raises(ValueError, match="threshold"):
            sealing.create_tender_key(tender_reference=TENDER, member_public_keys=keys, threshold=threshold)
    with pytest.raises(ValueError, match="same public key"):
        sealing.create_tender_key(
            tender_reference=TENDER, member_public_keys={"a": keys["alice"], "b": keys["alice"], "c": keys["bob"]}
        )
    with pytest.raises(ValueError):
        sealing.create_tender_key(tender_reference=TENDER, member_public_keys={**keys, "dave": b"x" * 31})
    with pytest.raises(ValueError):
        sealing.create_tender_key(tender_reference="bad\nreference", member_public_keys=keys)


def test_threshold_three_of_four(personal_keys):
    keys = {member: key.public_key for member, key in personal_keys.items()}
    material = sealing.create_tender_key(tender_reference=TENDER, member_public_keys=keys, threshold=3)
    two = [_member_share(material, personal_keys, m) for m in ("alice", "bob")]
    with pytest.raises(InvalidShares):
        sealing.rebuild_tender_private_key(material=material, shares=two)
    key = sealing.rebuild_tender_private_key(material=material, shares=[*two, material.recovery_share])
    assert _open(key, _seal(material)) == CANARY


def test_recovery_share_is_printable_and_catches_typos(material):
    text = material.recovery_share
    assert text.isascii() and text.startswith(sealing.RECOVERY_SHARE_TITLE)
    assert "recovery_share" not in repr(material)  # never printed into logs by accident
    # re-typed in lower case with odd spacing still parses
    lines = text.splitlines()
    retyped = "\n".join([lines[0].lower(), *lines[1:3], "  " + lines[3].lower().replace("-", " "), lines[4].lower()])
    assert sealing.parse_recovery_share("\n" + retyped + "\n", tender_reference=TENDER).index == 4
    share_line = lines[3]
    # Change the first character of the share itself: the last one may only carry base32 padding bits.
    position = share_line.index(":") + 1
    while share_line[position] == " ":
        position += 1
    replacement = "A" if share_line[position] != "A" else "B"
    typo = share_line[:position] + replacement + share_line[position + 1 :]
    with pytest.raises(FormatError, match="check"):
        sealing.parse_recovery_share("\n".join([*lines[:3], typo, lines[4]]), tender_reference=TENDER)
    with pytest.raises(InvalidShares):
        sealing.parse_recovery_share(text, tender_reference=OTHER_TENDER)
    with pytest.raises(UnsupportedFormat):
        sealing.parse_recovery_share(text.replace("v1", "v2", 1), tender_reference=TENDER)


def test_share_repr_hides_the_value(material, personal_keys):
    share = _member_share(material, personal_keys, "alice")
    assert share.value.hex() not in repr(share) and "16 bytes" in repr(share)


# ---------------------------------------------------------------------------------------------------------------
# Personal keys
# ---------------------------------------------------------------------------------------------------------------


def test_wrong_password_is_refused(personal_keys):
    with pytest.raises(WrongPassword):
        sealing.unlock_personal_key(blob=personal_keys["alice"].blob, password="not alice's")
    with pytest.raises(WrongPassword):
        sealing.unlock_personal_key(blob=personal_keys["alice"].blob, password=PASSWORDS["bob"])
    with pytest.raises(ValueError):
        sealing.generate_personal_keypair(password="")


def test_password_change_keeps_the_key_and_retires_the_old_password(material, personal_keys):
    old_blob = personal_keys["alice"].blob
    new_blob = sealing.rewrap_personal_key(blob=old_blob, old_password=PASSWORDS["alice"], new_password="new secret")
    assert new_blob != old_blob
    assert sealing.read_header(new_blob)["kdf"]["salt"] != sealing.read_header(old_blob)["kdf"]["salt"]

    with pytest.raises(WrongPassword):
        sealing.unlock_personal_key(blob=new_blob, password=PASSWORDS["alice"])
    key = sealing.unlock_personal_key(blob=new_blob, password="new secret")
    assert sealing.public_key_bytes(key) == personal_keys["alice"].public_key

    share = sealing.open_share(
        encrypted_share=material.member_shares["alice"],
        member_private_key=key,
        tender_reference=TENDER,
        member_id="alice",
    )
    tender_key = sealing.rebuild_tender_private_key(
        material=material, shares=[share, _member_share(material, personal_keys, "bob")]
    )
    assert _open(tender_key, _seal(material)) == CANARY
    with pytest.raises(WrongPassword):
        sealing.rewrap_personal_key(blob=new_blob, old_password=PASSWORDS["alice"], new_password="x")


def test_a_forgotten_password_means_a_new_key_and_the_committee_still_opens(material, personal_keys):
    replacement = sealing.generate_personal_keypair(password="fresh start")
    assert replacement.public_key != personal_keys["alice"].public_key
    fresh = sealing.unlock_personal_key(blob=replacement.blob, password="fresh start")
    with pytest.raises(ShareTampered):  # the new key cannot open the old share
        sealing.open_share(
            encrypted_share=material.member_shares["alice"],
            member_private_key=fresh,
            tender_reference=TENDER,
            member_id="alice",
        )
    shares = [_member_share(material, personal_keys, "bob"), _member_share(material, personal_keys, "carol")]
    assert _open(sealing.rebuild_tender_private_key(material=material, shares=shares), _seal(material)) == CANARY


def test_unicode_passwords_are_normalised():
    decomposed = "cafe\u0301"  # e + combining acute
    composed = "caf\u00e9"
    key = sealing.generate_personal_keypair(password=decomposed)
    assert sealing.unlock_personal_key(blob=key.blob, password=composed)


def test_personal_key_records_its_cost_and_production_cost_works(monkeypatch):
    monkeypatch.setattr(sealing, "SCRYPT_N", 2**15)
    key = sealing.generate_personal_keypair(password="production cost")
    assert key.kdf_params["n"] == 2**15 and key.kdf_params["r"] == 8 and key.kdf_params["p"] == 1
    monkeypatch.setattr(sealing, "SCRYPT_N", 2**10)  # a later setting does not affect old blobs
    assert sealing.public_key_bytes(sealing.unlock_personal_key(blob=key.blob, password="production cost")) == (
        key.public_key
    )


def test_a_personal_key_header_cannot_be_weakened_or_swapped(personal_keys):
    blob = personal_keys["alice"].blob
    weakened = _rewrite_header(blob, lambda h: h["kdf"].update(n=2**4))
    with pytest.raises(WrongPassword):
        sealing.unlock_personal_key(blob=weakened, password=PASSWORDS["alice"])
    swapped = _rewrite_header(
        blob, lambda h: h.update(public_key=base64.b64encode(personal_keys["bob"].public_key).decode())
    )
    with pytest.raises(WrongPassword):
        sealing.unlock_personal_key(blob=swapped, password=PASSWORDS["alice"])
    too_costly = _rewrite_header(blob, lambda h: h["kdf"].update(n=2**30))
    with pytest.raises(FormatError):
        sealing.unlock_personal_key(blob=too_costly, password=PASSWORDS["alice"])


# ---------------------------------------------------------------------------------------------------------------
# Envelopes
# ---------------------------------------------------------------------------------------------------------------


@pytest.fixture
def tender_key(material, personal_keys):
    shares = [_member_share(material, personal_keys, m) for m in ("alice", "bob")]
    return sealing.rebuild_tender_private_key(material=material, shares=shares)


def test_the_receipt_hash_is_the_sha256_of_the_blob(material):
    sealed = _seal(material)
    assert sealed.sha256 == hashlib.sha256(sealed.blob).hexdigest()
    assert _seal(material).blob != sealed.blob  # fresh randomness every time


def test_an_envelope_of_tender_a_cannot_be_opened_with_tender_b_key(personal_keys, material, tender_key):
    other = _material(personal_keys, OTHER_TENDER)
    other_key = sealing.rebuild_tender_private_key(
        material=other,
        shares=[_member_share(other, personal_keys, m, tender=OTHER_TENDER) for m in ("alice", "carol")],
    )
    sealed = _seal(material)
    with pytest.raises(EnvelopeTampered):
        _open(other_key, sealed)
    with pytest.raises(EnvelopeTampered):  # nor by claiming it belongs to tender B
        _open(other_key, sealed, tender=OTHER_TENDER)
    # the right key but the wrong tender reference
    with pytest.raises(EnvelopeTampered):
        _open(tender_key, sealed, tender=OTHER_TENDER)


@pytest.mark.parametrize(
    "swap",
    [
        {"kind": "technical"},
        {"bid_id": 43},
        {"bid_id": "42a"},
        {"version": 2},
        {"version": 0},
        {"tender": OTHER_TENDER},
    ],
)
def test_swapping_kind_bid_or_version_fails(material, tender_key, swap):
    sealed = _seal(material)
    with pytest.raises(EnvelopeTampered):
        _open(tender_key, sealed, **swap)


@pytest.mark.parametrize("field", ["kind", "bid", "version", "tender"])
def test_relabelling_the_header_context_fails_authentication(material, tender_key, field):
    """An attacker edits the visible labels to move the envelope to another bid: GCM refuses."""
    values = {"kind": "technical", "bid": "43", "version": 2, "tender": OTHER_TENDER}
    expected = {"kind": "financial", "bid_id": 42, "version": 1, "tender": TENDER}
    expected[{"bid": "bid_id"}.get(field, field)] = values[field] if field != "bid" else 43
    blob = _rewrite_header(_seal(material).blob, lambda h: h.update({field: values[field]}))
    with pytest.raises(EnvelopeTampered):
        sealing.open_envelope(
            tender_private_key=tender_key,
            blob=blob,
            expected_sha256=hashlib.sha256(blob).hexdigest(),
            tender_reference=expected["tender"],
            envelope_kind=expected["kind"],
            bid_id=expected["bid_id"],
            version=expected["version"],
        )


def test_flipping_one_byte_is_caught_by_the_receipt_hash(material, tender_key):
    sealed = _seal(material)
    for position in range(len(sealed.blob)):
        flipped = bytearray(sealed.blob)
        flipped[position] ^= 0x01
        with pytest.raises(EnvelopeTampered, match="receipt"):
            sealing.open_envelope(
                tender_private_key=tender_key,
                blob=bytes(flipped),
                expected_sha256=sealed.sha256,
                tender_reference=TENDER,
                envelope_kind="financial",
                bid_id=42,
                version=1,
            )


def test_flipping_one_byte_is_caught_by_gcm_even_with_a_matching_hash(material, tender_key, monkeypatch):
    """Somebody rewrote both the blob and the stored hash: authentication still fails, wherever the flip."""
    monkeypatch.setattr(sealing, "CHUNK_SIZE", 64)  # several chunks in a small blob
    sealed = _seal(material, plaintext=CANARY * 10)
    (header_length,) = struct.unpack(">I", sealed.blob[6:10])
    for position in range(len(sealed.blob)):
        flipped = bytearray(sealed.blob)
        flipped[position] ^= 0x01
        flipped = bytes(flipped)
        in_header = position < 10 + header_length
        with pytest.raises((EnvelopeTampered, UnsupportedFormat) if in_header else EnvelopeTampered):
            _open(tender_key, sealed.__class__(blob=flipped, sha256=hashlib.sha256(flipped).hexdigest()))


def test_truncating_reordering_or_extending_chunks_fails(material, tender_key, monkeypatch):
    monkeypatch.setattr(sealing, "CHUNK_SIZE", 32)
    sealed = _seal(material, plaintext=bytes(range(100)))  # 4 chunks: 32, 32, 32, 4
    (header_length,) = struct.unpack(">I", sealed.blob[6:10])
    head, body = sealed.blob[: 10 + header_length], sealed.blob[10 + header_length :]
    pieces = [body[i : i + 48] for i in range(0, len(body), 48)]
    assert [len(p) for p in pieces] == [48, 48, 48, 20]
    candidates = [
        head + b"".join(pieces[:3]),  # drop the last chunk
        head + b"".join(pieces[:-1]) + pieces[-1][:-1],  # cut a byte
        head + pieces[1] + pieces[0] + b"".join(pieces[2:]),  # reorder
        head + body + pieces[-1],  # replay the last chunk
        head,  # nothing at all
    ]
    for blob in candidates:
        with pytest.raises(EnvelopeTampered):
            _open(tender_key, sealing.SealedEnvelope(blob=blob, sha256=hashlib.sha256(blob).hexdigest()))


def test_receipt_hash_is_compared_case_insensitively_but_strictly(material, tender_key):
    sealed = _seal(material)
    assert _open(tender_key, sealed, expected=sealed.sha256.upper()) == CANARY
    with pytest.raises(EnvelopeTampered):
        _open(tender_key, sealed, expected="")
    with pytest.raises(EnvelopeTampered):
        _open(tender_key, sealed, expected=hashlib.sha256(b"other").hexdigest())


def test_no_stored_artefact_contains_the_canary_or_a_secret(personal_keys, material, tender_key):
    sealed = _seal(material)
    secrets = [CANARY, tender_key.private_bytes_raw()]
    for member, password in PASSWORDS.items():
        secrets.append(password.encode())
        secrets.append(
            sealing.unlock_personal_key(blob=personal_keys[member].blob, password=password).private_bytes_raw()
        )
        secrets.append(_member_share(material, personal_keys, member).value)
    secrets.append(sealing.parse_recovery_share(material.recovery_share, tender_reference=TENDER).value)

    stored = [sealed.blob, material.encrypted_private_key, *material.member_shares.values()]
    stored += [key.blob for key in personal_keys.values()]
    for artefact in stored:
        for secret in secrets:
            assert secret not in artefact
            assert base64.b64encode(secret) not in artefact
        assert material.recovery_share.encode() not in artefact


def test_every_format_carries_a_version_and_refuses_unknown_ones(personal_keys, material, tender_key):
    sealed = _seal(material)
    blobs = {
        "personal-key": personal_keys["alice"].blob,
        "tender-key": material.encrypted_private_key,
        "member-share": material.member_shares["alice"],
        "envelope": sealed.blob,
    }
    for blob_type, blob in blobs.items():
        header = sealing.read_header(blob)
        assert header["v"] == sealing.FORMAT_VERSION == 1
        assert header["type"] == blob_type
        assert blob.startswith(sealing.MAGIC)

    def future(blob):
        return _rewrite_header(blob, lambda h: h.update(v=2))

    with pytest.raises(UnsupportedFormat):
        sealing.read_header(future(sealed.blob))
    with pytest.raises(UnsupportedFormat):
        sealing.unlock_personal_key(blob=future(blobs["personal-key"]), password=PASSWORDS["alice"])
    alice = sealing.unlock_personal_key(blob=blobs["personal-key"], password=PASSWORDS["alice"])
    with pytest.raises(UnsupportedFormat):
        sealing.open_share(
            encrypted_share=future(blobs["member-share"]),
            member_private_key=alice,
            tender_reference=TENDER,
            member_id="alice",
        )
    shares = [_member_share(material, personal_keys, m) for m in ("alice", "bob")]
    with pytest.raises(UnsupportedFormat):
        sealing.rebuild_tender_private_key(material=future(blobs["tender-key"]), shares=shares)
    envelope = future(sealed.blob)
    with pytest.raises(UnsupportedFormat):
        _open(tender_key, sealing.SealedEnvelope(blob=envelope, sha256=hashlib.sha256(envelope).hexdigest()))
    # an unknown algorithm is refused as well, and a missing version is malformed
    with pytest.raises(UnsupportedFormat):
        sealing.unlock_personal_key(
            blob=_rewrite_header(blobs["personal-key"], lambda h: h["kdf"].update(alg="argon2id")),
            password=PASSWORDS["alice"],
        )
    with pytest.raises(FormatError):
        sealing.read_header(_rewrite_header(sealed.blob, lambda h: h.pop("v")))
    # a blob of one type is not accepted as another
    with pytest.raises(FormatError):
        sealing.unlock_personal_key(blob=blobs["member-share"], password=PASSWORDS["alice"])
    with pytest.raises(FormatError):
        sealing.read_header(b"not a blob at all")


def test_envelope_headers_describe_themselves(material):
    header = sealing.read_header(_seal(material, bid_id="B-7", kind="technical", version=3).blob)
    assert header["tender"] == TENDER and header["kind"] == "technical" and header["bid"] == "B-7"
    assert header["version"] == 3
    assert header["wrap"]["alg"] == "X25519-HKDF-SHA256-AES-256-GCM"
    assert header["data"]["alg"] == "AES-256-GCM-STREAM" and header["data"]["chunk_size"] == sealing.CHUNK_SIZE
    tender_header = sealing.read_header(material.encrypted_private_key)
    assert tender_header["sharing"]["members"] == {"alice": 1, "bob": 2, "carol": 3}
    assert tender_header["sharing"]["recovery_index"] == 4 and tender_header["sharing"]["threshold"] == 2


def test_random_plaintext_sizes_round_trip(material, tender_key):
    rng = random.Random(20250101)  # reproducible sizes and contents
    chunk = sealing.CHUNK_SIZE
    sizes = [0, 1, 15, 16, 17, chunk - 1, chunk, chunk + 1, 2 * chunk, 3 * chunk + 7, 200 * 1024]
    sizes += [rng.randint(0, 200 * 1024) for _ in range(15)]
    for size in sizes:
        plaintext = rng.randbytes(size)
        sealed = _seal(material, plaintext=plaintext, bid_id=size)
        assert _open(tender_key, sealed, bid_id=size) == plaintext
        n_chunks = max(1, -(-size // chunk))
        (header_length,) = struct.unpack(">I", sealed.blob[6:10])
        assert len(sealed.blob) == 10 + header_length + size + 16 * n_chunks


def test_seal_file_streams_to_the_same_format(material, tender_key, monkeypatch):
    monkeypatch.setattr(sealing, "CHUNK_SIZE", 4096)
    plaintext = random.Random(7).randbytes(50_000)
    source, sealed_file = io.BytesIO(plaintext), io.BytesIO()
    result = sealing.seal_file(
        tender_public_key=material.public_key,
        tender_reference=TENDER,
        envelope_kind="technical-file",
        bid_id=42,
        version=1,
        source=source,
        destination=sealed_file,
    )
    blob = sealed_file.getvalue()
    assert result.size == len(blob) and result.sha256 == hashlib.sha256(blob).hexdigest()
    assert CANARY not in blob
    # open as bytes
    assert (
        _open(tender_key, sealing.SealedEnvelope(blob=blob, sha256=result.sha256), kind="technical-file") == plaintext
    )
    # open as a stream
    sealed_file.seek(0)
    out = io.BytesIO()
    size = sealing.open_file(
        tender_private_key=tender_key,
        source=sealed_file,
        destination=out,
        expected_sha256=result.sha256,
        tender_reference=TENDER,
        envelope_kind="technical-file",
        bid_id=42,
        version=1,
    )
    assert size == len(plaintext) and out.getvalue() == plaintext
    # a tampered file is refused before anything is written
    tampered = io.BytesIO(blob[:-1] + bytes([blob[-1] ^ 1]))
    out = io.BytesIO()
    with pytest.raises(EnvelopeTampered, match="receipt"):
        sealing.open_file(
            tender_private_key=tender_key,
            source=tampered,
            destination=out,
            expected_sha256=result.sha256,
            tender_reference=TENDER,
            envelope_kind="technical-file",
            bid_id=42,
            version=1,
        )
    assert out.getvalue() == b""


def test_seal_envelope_validates_its_labels(material):
    for bad in ({"kind": ""}, {"kind": "a|b"}, {"bid_id": None}, {"version": -1}, {"version": True}, {"tender": ""}):
        with pytest.raises(ValueError):
            _seal(material, **bad)
    with pytest.raises(ValueError):
        sealing.seal_envelope(
            tender_public_key=b"short",
            tender_reference=TENDER,
            envelope_kind="financial",
            bid_id=1,
            version=1,
            plaintext=b"",
        )


def test_low_order_public_keys_are_refused(personal_keys, material, tender_key):
    keys = {member: key.public_key for member, key in personal_keys.items()}
    with pytest.raises(ValueError, match="low-order"):
        sealing.create_tender_key(tender_reference=TENDER, member_public_keys={**keys, "mallory": bytes(32)})
    with pytest.raises(ValueError, match="low-order"):
        sealing.seal_envelope(
            tender_public_key=bytes(32),
            tender_reference=TENDER,
            envelope_kind="financial",
            bid_id=1,
            version=1,
            plaintext=CANARY,
        )
    forged = _rewrite_header(_seal(material).blob, lambda h: h["wrap"].update(epk=base64.b64encode(bytes(32)).decode()))
    with pytest.raises(EnvelopeTampered):
        _open(tender_key, sealing.SealedEnvelope(blob=forged, sha256=hashlib.sha256(forged).hexdigest()))
