"""Demo vendors in each verification state, created through the real services."""

from __future__ import annotations

import datetime

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts.models import User
from core.demo_data import DEMO_PASSWORD
from core.demo_pdf import simple_pdf
from vendors import services
from vendors.models import MANDATORY_KINDS, Vendor, VendorCategory, VendorMembership

# CR number, English name, Arabic name, administrator e-mail, categories, final state
VENDORS = [
    (
        "1010456789",
        "Gulf Digital Systems Co.",
        "شركة الخليج للأنظمة الرقمية",
        "vendor@demo.gov",
        ["it-services", "software-development"],
        "verified",
    ),
    (
        "1010678901",
        "Arabian Cloud Solutions Co.",
        "شركة الحلول السحابية العربية",
        "vendor5@demo.gov",
        ["it-services", "telecommunications"],
        "verified",
    ),
    (
        "1010789012",
        "Al-Bayan Digital Consulting",
        "البيان للاستشارات الرقمية",
        "vendor6@demo.gov",
        ["consulting", "software-development"],
        "verified",
    ),
    (
        "1010567890",
        "Najd Contact Centres Ltd.",
        "شركة نجد لمراكز الاتصال المحدودة",
        "vendor2@demo.gov",
        ["contact-centre-operation"],
        "pending",
    ),
    (
        "4030123456",
        "Red Sea Training Institute",
        "معهد البحر الأحمر للتدريب",
        "vendor3@demo.gov",
        ["training"],
        "suspended",
    ),
    (
        "2050987654",
        "Horizon IT Services",
        "هورايزن لخدمات تقنية المعلومات",
        "vendor4@demo.gov",
        ["it-services"],
        "debarred",
    ),
]


def _pdf(title: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(f"{title}.pdf", simple_pdf([title, "Demo document"]), content_type="application/pdf")


def _company(cr: str, name_en: str, name_ar: str, email: str) -> dict:
    return {
        "legal_name_en": name_en,
        "legal_name_ar": name_ar,
        "commercial_registration_number": cr,
        "tax_number": f"3{cr}00003",
        "address": "King Fahd Road, Riyadh 12211",
        "phone": "+966 11 000 0000",
        "email": email.replace("@demo.gov", "@company.example"),
        "website": "",
    }


def seed_demo_vendors(*, officer: User, approver: User) -> int:
    created = 0
    today = timezone.localdate()
    for cr, name_en, name_ar, email, categories, state in VENDORS:
        if Vendor.objects.filter(commercial_registration_number=cr).exists():
            continue
        chosen = list(VendorCategory.objects.filter(code__in=categories))
        existing = User.objects.filter(email=email).first()
        if existing is None:
            vendor = services.vendor_register(
                company=_company(cr, name_en, name_ar, email),
                categories=chosen,
                email=email,
                full_name=f"{name_en} administrator",
                password=DEMO_PASSWORD,
            )
            user = User.objects.get(email=email)
            User.objects.filter(pk=user.pk).update(is_active=True)  # as if the e-mail link was followed
            user.refresh_from_db()
        else:
            # The demo's vendor account exists already: attach it to its company.
            vendor = Vendor(**_company(cr, name_en, name_ar, email))
            vendor.full_clean()
            vendor.save()
            vendor.categories.set(chosen)
            VendorMembership.objects.create(vendor=vendor, user=existing, is_administrator=True)
            user = existing
        if state != "pending":
            for kind in MANDATORY_KINDS:
                services.vendor_document_upload(
                    actor=user,
                    vendor=vendor,
                    kind=kind,
                    uploaded_file=_pdf(str(kind)),
                    issued_on=today - datetime.timedelta(days=200),
                    expires_on=today + datetime.timedelta(days=165),
                )
            services.vendor_verify(actor=officer, vendor=vendor)
        if state == "suspended":
            services.vendor_suspend(
                actor=officer, vendor=vendor, reason="The social insurance certificate could not be confirmed."
            )
        elif state == "debarred":
            services.vendor_debar(
                actor=approver,
                vendor=vendor,
                reason="Misrepresentation of experience in a previous government tender.",
                legal_reference="Government Tenders and Procurement Law, article 95",
                starts_on=today - datetime.timedelta(days=30),
                ends_on=today + datetime.timedelta(days=335),
            )
        created += 1
    return created
