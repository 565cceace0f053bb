"""The demo data: the National e-Government Programme, its ministries, and one account per role."""

import datetime
from decimal import Decimal

DEMO_PASSWORD = "demo-ppp-2026"  # noqa: S105  (documented in the README; demo only)

AGENCIES = [
    # code, parent, kind, English, Arabic
    (
        "MCIT",
        None,
        "ministry",
        "Ministry of Communications and Information Technology",
        "وزارة الاتصالات وتقنية المعلومات",
    ),
    ("MCIT-EGOV", "MCIT", "department", "e-Government Programme Office", "مكتب برنامج الحكومة الإلكترونية"),
    ("MCIT-DI", "MCIT", "department", "Digital Infrastructure Department", "إدارة البنية التحتية الرقمية"),
    ("MOI", None, "ministry", "Ministry of Interior", "وزارة الداخلية"),
    ("MOI-CA", "MOI", "department", "Civil Affairs Agency", "وكالة الأحوال المدنية"),
    ("MOH", None, "ministry", "Ministry of Health", "وزارة الصحة"),
    ("MOE", None, "ministry", "Ministry of Education", "وزارة التعليم"),
    (
        "MOE-TVT",
        "MOE",
        "department",
        "Technical and Vocational Training Corporation",
        "المؤسسة العامة للتدريب التقني والمهني",
    ),
    ("MOF", None, "ministry", "Ministry of Finance", "وزارة المالية"),
    ("DGA", None, "authority", "Digital Government Authority", "هيئة الحكومة الرقمية"),
]

# email, full name, Arabic name, agency code, roles, staff
ACCOUNTS = [
    ("admin@demo.gov", "Huda Al-Qahtani", "هدى القحطاني", None, ["administrator"], True),
    ("officer@demo.gov", "Omar Al-Harbi", "عمر الحربي", "MCIT", ["procurement_officer"], False),
    (
        "officer2@demo.gov",
        "Layla Al-Zahrani",
        "ليلى الزهراني",
        "MCIT",
        ["procurement_officer", "committee_member"],
        False,
    ),
    ("approver@demo.gov", "Khalid Al-Otaibi", "خالد العتيبي", "MCIT", ["approver"], False),
    ("committee@demo.gov", "Dr. Sara Al-Mutairi", "د. سارة المطيري", "DGA", ["committee_member"], False),
    ("committee2@demo.gov", "Eng. Abdullah Al-Shehri", "م. عبدالله الشهري", "MOF", ["committee_member"], False),
    ("committee3@demo.gov", "Reem Al-Ghamdi", "ريم الغامدي", "MCIT-DI", ["committee_member"], False),
    ("auditor@demo.gov", "Faisal Al-Dosari", "فيصل الدوسري", None, ["auditor"], False),
    ("vendor@demo.gov", "Nadia Haddad", "نادية حداد", None, ["vendor_user"], False),
]

PROGRAMME = {
    "code": "NEGP",
    "name_en": "National e-Government Programme",
    "name_ar": "البرنامج الوطني للحكومة الإلكترونية",
    "description_en": (
        "Moves government services online for citizens, residents and businesses: one governance "
        "framework, electronic linkage between agencies, one unified portal, a contact centre open "
        "around the clock, and digital skills for every citizen. Much of each phase is delivered by "
        "private-sector partners under public–private partnership contracts."
    ),
    "description_ar": (
        "ينقل الخدمات الحكومية إلى القنوات الإلكترونية للمواطنين والمقيمين وقطاع الأعمال: إطار حوكمة "
        "موحد، وربط إلكتروني بين الجهات الحكومية، وبوابة موحدة، ومركز اتصال يعمل على مدار الساعة، "
        "ومهارات رقمية لكل مواطن. ويُنفَّذ جزء كبير من كل مرحلة عبر شركاء من القطاع الخاص بعقود شراكة."
    ),
    "sponsor": "MCIT",
    "budget": Decimal("1200000000.00"),
    "currency": "SAR",
    "start_date": datetime.date(2025, 1, 1),
    "end_date": datetime.date(2029, 12, 31),
}

PHASES = [
    {
        "order": 1,
        "name_en": "Governance and strategy",
        "name_ar": "الحوكمة والاستراتيجية",
        "start_date": datetime.date(2025, 1, 1),
        "end_date": datetime.date(2025, 12, 31),
        "budget": Decimal("60000000.00"),
        "specification_en": "Set up the programme's governance: the steering committee, policies, standards for "
        "e-services, and the five-year strategy with its targets.",
        "specification_ar": "إنشاء حوكمة البرنامج: اللجنة التوجيهية والسياسات ومعايير الخدمات الإلكترونية، "
        "والاستراتيجية الخمسية بمستهدفاتها.",
        "deliverables_en": "e-Government strategy 2025–2029\nGovernance framework and charters\nService standards and KPIs",
        "deliverables_ar": "استراتيجية الحكومة الإلكترونية 2025–2029\nإطار الحوكمة ومواثيقها\nمعايير الخدمات ومؤشرات الأداء",
    },
    {
        "order": 2,
        "name_en": "Inter-agency electronic linkage",
        "name_ar": "الربط الإلكتروني بين الجهات الحكومية",
        "start_date": datetime.date(2025, 7, 1),
        "end_date": datetime.date(2027, 6, 30),
        "budget": Decimal("320000000.00"),
        "specification_en": "A government service bus that lets ministries exchange data securely, so that citizens "
        "never hand one agency a document another already holds.",
        "specification_ar": "ناقل خدمات حكومي يتيح للوزارات تبادل البيانات بأمان، فلا يُطلب من المواطن مستند "
        "تملكه جهة حكومية أخرى.",
        "deliverables_en": "Government service bus in production\n40 agencies connected\nData-sharing agreements",
        "deliverables_ar": "ناقل الخدمات الحكومي في بيئة الإنتاج\nربط 40 جهة حكومية\nاتفاقيات مشاركة البيانات",
    },
    {
        "order": 3,
        "name_en": "Unified government portal and social media presence",
        "name_ar": "البوابة الحكومية الموحدة وحضورها على وسائل التواصل الاجتماعي",
        "start_date": datetime.date(2026, 1, 1),
        "end_date": datetime.date(2027, 12, 31),
        "budget": Decimal("280000000.00"),
        "specification_en": "One portal for every ministry and agency, in Arabic and English, accessible and "
        "mobile-first, with official accounts on the main social networks.",
        "specification_ar": "بوابة واحدة لكل الوزارات والجهات، بالعربية والإنجليزية، سهلة الوصول ومصممة "
        "للجوال أولاً، مع حسابات رسمية على شبكات التواصل الاجتماعي الرئيسية.",
        "deliverables_en": "Unified portal live\n200 services migrated\nSocial media channels and editorial team",
        "deliverables_ar": "إطلاق البوابة الموحدة\nنقل 200 خدمة\nقنوات التواصل الاجتماعي وفريق التحرير",
    },
    {
        "order": 4,
        "name_en": "24/7 contact centre for inquiries, suggestions and complaints",
        "name_ar": "مركز الاتصال على مدار الساعة للاستفسارات والاقتراحات والشكاوى",
        "start_date": datetime.date(2026, 7, 1),
        "end_date": datetime.date(2028, 6, 30),
        "budget": Decimal("190000000.00"),
        "specification_en": "A contact centre that answers citizens and companies by phone, chat and e-mail around "
        "the clock, with response-time targets and monthly reporting.",
        "specification_ar": "مركز اتصال يجيب المواطنين والشركات هاتفياً وعبر المحادثة والبريد الإلكتروني على "
        "مدار الساعة، بمستهدفات لزمن الاستجابة وتقارير شهرية.",
        "deliverables_en": "Contact centre operating 24/7\nTicketing system integrated with the portal\nMonthly service reports",
        "deliverables_ar": "تشغيل مركز الاتصال على مدار الساعة\nنظام تذاكر مرتبط بالبوابة\nتقارير خدمة شهرية",
    },
    {
        "order": 5,
        "name_en": "Citizen digital-skills training",
        "name_ar": "تدريب المواطنين على المهارات الرقمية",
        "start_date": datetime.date(2027, 1, 1),
        "end_date": datetime.date(2029, 12, 31),
        "budget": Decimal("150000000.00"),
        "specification_en": "Teach citizens to use the new electronic services: courses in training centres and "
        "online, guides, and help for the elderly and people with disabilities.",
        "specification_ar": "تعليم المواطنين استخدام الخدمات الإلكترونية الجديدة: دورات في مراكز التدريب "
        "وعبر الإنترنت، وأدلة، ومساعدة لكبار السن وذوي الإعاقة.",
        "deliverables_en": "500,000 citizens trained\nOnline courses in Arabic and English\nTraining centres in every region",
        "deliverables_ar": "تدريب 500,000 مواطن\nدورات إلكترونية بالعربية والإنجليزية\nمراكز تدريب في كل منطقة",
    },
]
