"""Demo tenders in every state this stage reaches, run through the real services.

Tenders that must look older than today (closed, unsuccessful, cancelled after publication) are
prepared and approved with the services' clock set back; the scheduler then closes them as it would.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from unittest import mock

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from core.demo_pdf import simple_pdf
from procurement import opening_services
from procurement import tender_services as services
from procurement.models import Phase, Tender

CRITERIA = [
    {
        "name_en": "Technical approach and methodology",
        "name_ar": "المنهجية والنهج الفني",
        "description_en": "Architecture, delivery plan, risks and how they are managed.",
        "description_ar": "البنية والخطة التنفيذية والمخاطر وكيفية إدارتها.",
        "weight": "40",
    },
    {
        "name_en": "Experience of the firm in similar PPP projects",
        "name_ar": "خبرة الشركة في مشاريع شراكة مماثلة",
        "description_en": "At least three comparable government projects in the last five years.",
        "description_ar": "ثلاثة مشاريع حكومية مماثلة على الأقل خلال السنوات الخمس الماضية.",
        "weight": "35",
    },
    {
        "name_en": "Key staff qualifications",
        "name_ar": "مؤهلات الكوادر الرئيسية",
        "description_en": "CVs of the project director, architect and service manager.",
        "description_ar": "السير الذاتية لمدير المشروع والمهندس المعماري ومدير الخدمة.",
        "weight": "25",
    },
]

# (phase order, English title, Arabic title, category, estimated value, final state)
TENDERS = [
    (
        2,
        "Government service bus — design, build and operate (PPP)",
        "ناقل الخدمات الحكومي — التصميم والبناء والتشغيل (شراكة)",
        "services",
        "145000000",
        "published_qa",
    ),
    (
        3,
        "Unified government portal — platform and migration of 200 services",
        "البوابة الحكومية الموحدة — المنصة ونقل 200 خدمة",
        "services",
        "98000000",
        "published",
    ),
    (
        3,
        "Social media presence and editorial services for the portal",
        "الحضور على وسائل التواصل الاجتماعي وخدمات التحرير للبوابة",
        "services",
        "12500000",
        "pending_approval",
    ),
    (
        4,
        "24/7 contact centre operation (availability-payment PPP)",
        "تشغيل مركز الاتصال على مدار الساعة (شراكة بمدفوعات الإتاحة)",
        "services",
        "76000000",
        "returned",
    ),
    (
        5,
        "Citizen digital-skills training in regional centres",
        "تدريب المواطنين على المهارات الرقمية في المراكز الإقليمية",
        "services",
        "41000000",
        "draft",
    ),
    (
        2,
        "Legal advisory for inter-agency data-sharing agreements",
        "استشارات قانونية لاتفاقيات مشاركة البيانات بين الجهات",
        "consultingServices",
        "3200000",
        "closed",
    ),
    (1, "Governance framework consultancy", "استشارات إطار الحوكمة", "consultingServices", "5400000", "cancelled"),
    (
        1,
        "International benchmarking study of e-government strategies",
        "دراسة مقارنة دولية لاستراتيجيات الحكومة الإلكترونية",
        "consultingServices",
        "1800000",
        "unsuccessful",
    ),
]


def tender_document(title: str, reference_hint: str) -> SimpleUploadedFile:
    content = simple_pdf([title, "", f"Tender: {reference_hint}", "National e-Government Programme"])
    return SimpleUploadedFile(f"{title.lower().replace(' ', '-')}.pdf", content, content_type="application/pdf")


def tender_data(title_en, title_ar, category, value, start: datetime.datetime, *, days_to_submission: int = 35) -> dict:
    submission = (start + datetime.timedelta(days=days_to_submission)).replace(
        hour=12, minute=0, second=0, microsecond=0
    )
    return {
        "title_en": title_en,
        "title_ar": title_ar,
        "description_en": f"{title_en}. Scope, service levels and payment mechanism are in the terms of reference.",
        "description_ar": f"{title_ar}. النطاق ومستويات الخدمة وآلية الدفع مبينة في الشروط المرجعية.",
        "method": "open",
        "category": category,
        "estimated_value": Decimal(value),
        "currency": "SAR",
        "minimum_bids": 2,
        "evaluation_method": "quality_cost",
        "technical_weight": Decimal("70"),
        "financial_weight": Decimal("30"),
        "pass_mark": Decimal("70"),
        "clarification_deadline": submission - datetime.timedelta(days=12),
        "submission_deadline": submission,
        "opening_time": submission + datetime.timedelta(hours=1),
    }


def name_committee(*, officer, tender: Tender, committee) -> None:
    """Name the opening committee (people who already have personal keys) through the real service."""
    for member in committee:
        opening_services.opening_committee_add(actor=officer, tender=tender, user=member)


def seed_demo_tenders(*, programme, officer, approver, vendor, committee) -> int:
    """Create the demo tenders that do not exist yet; return how many were created.

    Every tender gets ``committee`` as its opening committee; the ones that are approved get a sealing key
    (the recovery share the approval hands back is discarded: this is a demo).
    """
    created = 0
    now = timezone.now()
    for order, title_en, title_ar, category, value, state in TENDERS:
        if Tender.objects.filter(title_en=title_en).exists():
            continue
        phase = Phase.objects.get(programme=programme, order=order)
        past = state in ("closed", "unsuccessful")
        start = now - datetime.timedelta(days=50) if past else now
        with transaction.atomic(), mock.patch.object(services, "_now", return_value=start):
            tender = services.tender_create(
                actor=officer,
                phase=phase,
                data=tender_data(title_en, title_ar, category, value, start),
                criteria=CRITERIA,
            )
            services.tender_document_add(
                actor=officer,
                tender=tender,
                uploaded_file=tender_document("Terms of reference", tender.reference),
                title="Terms of reference",
            )
            services.tender_document_add(
                actor=officer,
                tender=tender,
                uploaded_file=tender_document("Draft PPP contract", tender.reference),
                title="Draft PPP contract",
            )
            name_committee(officer=officer, tender=tender, committee=committee)
            if state == "draft":
                created += 1
                continue
            services.tender_submit_for_approval(actor=officer, tender=tender)
            if state == "pending_approval":
                created += 1
                continue
            if state == "returned":
                services.tender_return(
                    actor=approver,
                    tender=tender,
                    comments="Add the availability-payment deductions per KPI to the terms of reference.",
                )
                created += 1
                continue
            services.tender_approve(actor=approver, tender=tender)
        if state == "published_qa":
            with transaction.atomic():
                question = services.clarification_ask(
                    actor=vendor,
                    tender=tender,
                    question="Can a consortium led by a local firm bid, and must every member be registered?",
                )
                services.clarification_answer(
                    actor=officer,
                    clarification=question,
                    answer="Yes. Consortia may bid; the lead member and every member must be verified vendors.",
                )
                services.clarification_ask(
                    actor=vendor, tender=tender, question="Is hosting in a government data centre mandatory?"
                )
                tender.refresh_from_db()
                services.addendum_create(
                    actor=officer,
                    tender=tender,
                    data={
                        "summary_en": "Submission deadline extended by 7 days; integration catalogue added.",
                        "summary_ar": "تمديد الموعد النهائي لتقديم العروض 7 أيام، وإضافة دليل الربط.",
                        "new_submission_deadline": tender.submission_deadline + datetime.timedelta(days=7),
                        "new_opening_time": tender.opening_time + datetime.timedelta(days=7),
                    },
                    files=[("Integration catalogue", tender_document("Integration catalogue", tender.reference))],
                )
        elif state == "cancelled":
            services.tender_cancel(
                actor=officer,
                tender=tender,
                reason="The scope is merged into the inter-agency linkage tender after the steering committee's review.",
            )
        elif state in ("closed", "unsuccessful"):
            services.advance_deadlines(now=now)
            if state == "unsuccessful":
                services.tender_mark_unsuccessful(
                    actor=officer,
                    tender=tender,
                    reason="Only one bid was received; the tender requires at least two.",
                )
        created += 1
    return created
