"""One group per role. What each role may do is decided in accounts/rules.py."""

from django.db import migrations

ROLES = ["vendor_user", "procurement_officer", "committee_member", "approver", "auditor", "administrator"]


def create_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in ROLES:
        Group.objects.get_or_create(name=name)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_initial"), ("auth", "0012_alter_user_first_name_max_length")]

    operations = [migrations.RunPython(create_groups, migrations.RunPython.noop)]
