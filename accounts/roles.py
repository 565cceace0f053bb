"""The roles people hold. Each role is a Django group of the same name; what a role may do is
decided in ``accounts/rules.py`` and nowhere else."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    VENDOR_USER = "vendor_user", _("Vendor user")
    PROCUREMENT_OFFICER = "procurement_officer", _("Procurement officer")
    COMMITTEE_MEMBER = "committee_member", _("Evaluation committee member")
    APPROVER = "approver", _("Approver (steering committee)")
    AUDITOR = "auditor", _("Auditor")
    ADMINISTRATOR = "administrator", _("Administrator")


#: Roles whose holders act for one agency and must belong to it.
AGENCY_ROLES = frozenset({Role.PROCUREMENT_OFFICER, Role.APPROVER})
