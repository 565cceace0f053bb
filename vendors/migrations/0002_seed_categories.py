from django.db import migrations

CATEGORIES = [
    ("it-services", "IT services", "خدمات تقنية المعلومات"),
    ("software-development", "Software development", "تطوير البرمجيات"),
    ("telecommunications", "Telecommunications", "الاتصالات"),
    ("consulting", "Consulting", "الاستشارات"),
    ("training", "Training", "التدريب"),
    ("contact-centre", "Contact centre operation", "تشغيل مراكز الاتصال"),
    ("construction", "Construction", "الإنشاءات"),
]


def seed(apps, schema_editor):
    category = apps.get_model("vendors", "VendorCategory")
    for code, name_en, name_ar in CATEGORIES:
        category.objects.update_or_create(code=code, defaults={"name_en": name_en, "name_ar": name_ar})


def unseed(apps, schema_editor):
    apps.get_model("vendors", "VendorCategory").objects.filter(code__in=[c[0] for c in CATEGORIES]).delete()


class Migration(migrations.Migration):
    dependencies = [("vendors", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
