"""PAdES signatures on contract PDFs, and the report that says whether they still hold.

Pure functions over bytes: the contract service decides who may sign what and when. Each signature is an
incremental update into its own visible field (prepared by ``add_signature_fields`` right after the PDF
is rendered), carries the signer's certificate chain and an RFC 3161 signature time-stamp (PAdES
baseline B-T), and so earlier signatures stay valid when later ones are added.
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from io import BytesIO

from cryptography import x509
from django.utils.translation import gettext as _
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.general import SigningError
from pyhanko.sign.timestamps import TimeStamper
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.errors import SignatureValidationError
from pyhanko.stamp import TextStampStyle
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

from contracts.pki import certificate_common_name, certificate_emails, to_asn1_certificate, to_asn1_private_key


class SigningRefused(Exception):
    """The document cannot be signed as asked; the message is fit to show the signer."""


class UnreadablePdf(Exception):
    """The bytes are not a PDF that can be read."""


@dataclass(frozen=True)
class SignatureField:
    name: str
    page: int  # 0-based
    box: tuple[int, int, int, int]  # lower-left x, lower-left y, upper-right x, upper-right y, in points


def _reader(pdf_bytes: bytes) -> PdfFileReader:
    if not pdf_bytes.startswith(b"%PDF-"):
        raise UnreadablePdf(_("This file is not a PDF."))
    try:
        return PdfFileReader(BytesIO(pdf_bytes), strict=False)
    except (PdfError, ValueError, KeyError, IndexError) as error:
        raise UnreadablePdf(_("This PDF could not be read (%(error)s).") % {"error": error}) from error


class _WriterModifiedAt(IncrementalPdfFileWriter):
    """An incremental writer that records a given modification date instead of the clock's."""

    def __init__(self, stream, *, modified_at: datetime.datetime | None):
        super().__init__(stream, strict=False)
        self._modified_at = modified_at

    def _update_meta(self):
        super()._update_meta()
        if self._modified_at is not None and self._info is not None:
            info = self._info.get_object()
            if "/ModDate" in info:
                info["/ModDate"] = generic.pdf_date(self._modified_at)


def add_signature_fields(
    pdf_bytes: bytes, signature_fields: Iterable[SignatureField], *, modified_at: datetime.datetime | None = None
) -> bytes:
    """Append empty visible signature fields, one per signatory, as one incremental update.

    The same input gives the same output: the file identifier, which pyHanko would draw at random, is
    derived from the input, and the update's modification date — which pyHanko takes from the clock — is
    ``modified_at`` (pass the moment the document was frozen).
    """
    writer = _WriterModifiedAt(BytesIO(pdf_bytes), modified_at=modified_at)
    for spec in signature_fields:
        fields.append_signature_field(
            writer,
            fields.SigFieldSpec(sig_field_name=spec.name, on_page=spec.page, box=spec.box, empty_field_appearance=True),
        )
    digest = hashlib.sha256(pdf_bytes).digest()
    try:
        first_id = writer.prev.trailer["/ID"][0]
    except (KeyError, IndexError):  # WeasyPrint writes no /ID; pyHanko would draw both halves at random
        first_id = generic.ByteStringObject(digest[16:])
    writer._document_id = generic.ArrayObject([first_id, generic.ByteStringObject(digest[:16])])
    output = BytesIO()
    writer.write(output)
    return output.getvalue()


def signature_field_names(pdf_bytes: bytes) -> dict[str, bool]:
    """Each signature field's name, and whether it is signed."""
    reader = _reader(pdf_bytes)
    return {name: value is not None for name, value, _ in fields.enumerate_sig_fields(reader)}


def _stamp_name(name: str, certificate: x509.Certificate) -> str:
    # The stamp is drawn in a standard PDF font, which has Latin glyphs only; the signature dictionary's
    # /Name (shown by every validator) carries the name in full.
    try:
        name.encode("latin-1")
    except UnicodeEncodeError:
        return ", ".join(sorted(certificate_emails(certificate))) or certificate_common_name(certificate)
    return name


def sign_pdf(
    pdf_bytes: bytes,
    *,
    field_name: str,
    signer_key,
    signer_cert: x509.Certificate,
    chain: Sequence[x509.Certificate],
    timestamper: TimeStamper,
    reason: str,
    location: str,
    name: str,
) -> bytes:
    """Sign the empty field ``field_name`` (PAdES B-T) and return the document with the signature appended."""
    filled = signature_field_names(pdf_bytes)
    if field_name not in filled:
        raise SigningRefused(_("The document has no signature field named “%(field)s”.") % {"field": field_name})
    if filled[field_name]:
        raise SigningRefused(_("The signature field “%(field)s” is already signed.") % {"field": field_name})
    signer = signers.SimpleSigner(
        signing_cert=to_asn1_certificate(signer_cert),
        signing_key=to_asn1_private_key(signer_key),
        cert_registry=SimpleCertificateStore.from_certs([to_asn1_certificate(c) for c in chain]),
    )
    metadata = signers.PdfSignatureMetadata(
        field_name=field_name,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason,
        location=location,
        name=name,
    )
    stamp = TextStampStyle(stamp_text="Digitally signed by %(signer)s\n%(ts)s", border_width=1)
    pdf_signer = signers.PdfSigner(metadata, signer=signer, timestamper=timestamper, stamp_style=stamp)
    writer = IncrementalPdfFileWriter(BytesIO(pdf_bytes), strict=False)
    try:
        output = pdf_signer.sign_pdf(
            writer,
            existing_fields_only=True,
            appearance_text_params={"signer": _stamp_name(name, signer_cert)},
        )
    except SigningError as error:
        raise SigningRefused(_("The document could not be signed: %(error)s") % {"error": error}) from error
    return output.getvalue()


@dataclass(frozen=True)
class SignatureReport:
    field: str
    signer_name: str
    signer_email: str
    signing_time: datetime.datetime | None  # as the signer's computer claimed it
    timestamp_time: datetime.datetime | None  # from the time-stamp authority
    timestamp_ok: bool | None  # None when there is no time-stamp
    intact: bool  # the signed bytes are those the signer hashed
    valid: bool  # the signature over that hash is cryptographically sound
    trusted: bool  # the certificate chains to a trust root
    coverage: str  # ENTIRE_FILE, ENTIRE_REVISION, ...
    modification_level: str | None  # NONE, LTA_UPDATES, FORM_FILLING, ANNOTATIONS, OTHER
    modifications_permitted: bool | None  # the changes after this signature are ones it allows
    ok: bool
    problem: str = ""


@dataclass(frozen=True)
class ValidationReport(Sequence):
    """A list of ``SignatureReport`` (in signing order), and the verdict on the whole document."""

    signatures: tuple[SignatureReport, ...]
    problems: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return bool(self.signatures) and not self.problems and all(report.ok for report in self.signatures)

    def __getitem__(self, index):
        return self.signatures[index]

    def __len__(self) -> int:
        return len(self.signatures)

    def __iter__(self) -> Iterator[SignatureReport]:
        return iter(self.signatures)


def _signer_email(certificate) -> str:
    return ", ".join(sorted(certificate_emails(certificate)))


def _failed_report(embedded, problem: str) -> SignatureReport:
    try:
        certificate = x509.load_der_x509_certificate(embedded.signer_cert.dump())
        name, email = certificate_common_name(certificate), _signer_email(certificate)
    except (ValueError, KeyError, AttributeError, SignatureValidationError):
        name, email = "", ""
    return SignatureReport(
        field=embedded.field_name,
        signer_name=name,
        signer_email=email,
        signing_time=None,
        timestamp_time=None,
        timestamp_ok=None,
        intact=False,
        valid=False,
        trusted=False,
        coverage="UNCLEAR",
        modification_level=None,
        modifications_permitted=None,
        ok=False,
        problem=problem,
    )


def _timestamp_ok(timestamp) -> bool:
    return timestamp is None or (timestamp.intact and timestamp.valid and timestamp.trusted)


def _problem(status) -> str:
    if not status.intact:
        return "the signed content was changed after signing"
    if not status.valid:
        return "the signature is not cryptographically valid"
    if not status.trusted:
        return "the signer's certificate does not chain to a trusted root"
    if not _timestamp_ok(status.timestamp_validity):
        return "the time-stamp is not valid or not trusted"
    if status.docmdp_ok is False:
        return "the document was changed after this signature in a way it does not permit"
    if not status.bottom_line:
        return "the signature does not satisfy its signing policy"
    return ""


def validation_report(pdf_bytes: bytes, trust_roots: Iterable[x509.Certificate]) -> ValidationReport:
    """Validate every signature against ``trust_roots`` (no network access, no revocation data)."""
    reader = _reader(pdf_bytes)
    context = ValidationContext(
        trust_roots=[to_asn1_certificate(root) for root in trust_roots],
        allow_fetching=False,
        revocation_mode="soft-fail",
    )
    try:
        embedded_signatures = reader.embedded_regular_signatures
    except (PdfError, ValueError, KeyError) as error:
        raise UnreadablePdf(
            _("The signatures in this PDF could not be read (%(error)s).") % {"error": error}
        ) from error
    reports = []
    for embedded in embedded_signatures:
        try:
            status = validate_pdf_signature(embedded, signer_validation_context=context)
        except (SignatureValidationError, PdfError, ValueError, KeyError) as error:
            reports.append(_failed_report(embedded, f"the signature could not be validated ({error})"))
            continue
        certificate = x509.load_der_x509_certificate(status.signing_cert.dump())
        timestamp = status.timestamp_validity
        modification_level = status.modification_level
        problem = _problem(status)
        reports.append(
            SignatureReport(
                field=embedded.field_name,
                signer_name=certificate_common_name(certificate),
                signer_email=_signer_email(certificate),
                signing_time=status.signer_reported_dt,
                timestamp_time=timestamp.timestamp if timestamp is not None else None,
                timestamp_ok=_timestamp_ok(timestamp) if timestamp is not None else None,
                intact=status.intact,
                valid=status.valid,
                trusted=status.trusted,
                coverage=status.coverage.name if status.coverage is not None else "UNCLEAR",
                modification_level=modification_level.name if modification_level is not None else None,
                modifications_permitted=status.docmdp_ok,
                ok=status.bottom_line and not problem,
                problem=problem,
            )
        )
    problems = [f"Signature {report.field!r}: {report.problem}." for report in reports if report.problem]
    if not reports:
        problems.append("The document has no signatures.")
    elif reports[-1].coverage != "ENTIRE_FILE" and reports[-1].modifications_permitted is None:
        problems.append("The document was changed after the last signature, and the change could not be checked.")
    return ValidationReport(signatures=tuple(reports), problems=tuple(problems))


def format_report(report: ValidationReport) -> str:
    """The report as plain text, for the command line."""
    lines = []
    for index, signature in enumerate(report, start=1):

        def when(moment):
            return moment.astimezone(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if moment else "none"

        def yes(flag):
            return "yes" if flag else ("unknown" if flag is None else "NO")

        lines += [
            f"Signature {index}: field {signature.field}",
            f"  Signer:               {signature.signer_name} <{signature.signer_email}>",
            f"  Signing time:         {when(signature.signing_time)} (claimed by the signer)",
            f"  Time-stamp:           {when(signature.timestamp_time)}"
            + ("" if signature.timestamp_ok is None else f" (valid and trusted: {yes(signature.timestamp_ok)})"),
            f"  Intact:               {yes(signature.intact)}",
            f"  Valid:                {yes(signature.valid)}",
            f"  Trusted:              {yes(signature.trusted)}",
            f"  Coverage:             {signature.coverage}",
            f"  Changes since:        {signature.modification_level or 'unknown'}"
            f" (permitted: {yes(signature.modifications_permitted)})",
            f"  Result:               {'OK' if signature.ok else 'FAILED: ' + signature.problem}",
            "",
        ]
    lines += [f"Problem: {problem}" for problem in report.problems]
    lines.append("Document: " + ("OK, every signature holds" if report.ok else "NOT OK"))
    return "\n".join(lines)
