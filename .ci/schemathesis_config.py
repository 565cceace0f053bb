"""Write the Schemathesis configuration for ``.ci/schemathesis``: the demo database's real identifiers.

Without them the fuzzer's path parameters are random integers, and most operations on one object (a tender's
evaluation, a contract's amendments, a bid's files) would only ever answer 404. Each path parameter is drawn from
the identifiers that exist half of the time, and generated freely the other half.
Run with the project's settings in the environment: ``python .ci/schemathesis_config.py > schemathesis.toml``.
"""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.api_fuzz")

import django  # noqa: E402

django.setup()

from accounts.models import User  # noqa: E402
from audit.models import AuditEvent  # noqa: E402
from contracts import models as contracts  # noqa: E402
from notifications.models import Notification  # noqa: E402
from procurement import models as procurement  # noqa: E402
from vendors.models import Vendor  # noqa: E402

LIMIT = 200


def ids(queryset, field="pk") -> list[int]:
    return sorted(set(queryset.order_by(field).values_list(field, flat=True)[:LIMIT])) or [1]


dictionaries = {
    "agencies": ids(procurement.Agency.objects),
    "programmes": ids(procurement.Programme.objects),
    "phases": ids(procurement.Phase.objects),
    "vendors": ids(Vendor.objects),
    "notifications": ids(Notification.objects),
    "events": ids(AuditEvent.objects, "sequence"),
    "tenders": ids(procurement.Tender.objects),
    "bids": ids(procurement.Bid.objects),
    "bid_files": ids(procurement.BidFile.objects),
    "complaints": ids(procurement.Complaint.objects),
    "members": sorted(
        set(ids(procurement.EvaluationMember.objects))
        | set(ids(procurement.OpeningCommitteeMember.objects))
        | set(ids(User.objects))
    ),
    "numbers": [1, 2, 3],
    "contracts": ids(contracts.Contract.objects),
    "reports": ids(contracts.ProgressReport.objects),
    "evidence": ids(contracts.ProgressEvidence.objects),
    "measurements": ids(contracts.KpiMeasurement.objects),
    "signatures": ids(contracts.ContractSignature.objects),
}
bindings = [
    (r"^/api/v1/agencies/", {"id": "agencies"}),
    (r"^/api/v1/programmes/", {"id": "programmes"}),
    (r"^/api/v1/phases/", {"id": "phases"}),
    (r"^/api/v1/audit/trails/", {"id": "contracts"}),
    (r"^/api/v1/vendors/", {"id": "vendors"}),
    (r"^/api/v1/notifications/", {"id": "notifications"}),
    (r"^/api/v1/audit/events/", {"sequence": "events"}),
    (r"^/api/v1/bids/", {"id": "bids", "file_pk": "bid_files"}),
    (
        r"^/api/v1/tenders/",
        {
            "id": "tenders",
            "bid": "bids",
            "file_pk": "bid_files",
            "complaint": "complaints",
            "member": "members",
            "number": "numbers",
        },
    ),
    (
        r"^/api/v1/contracts/",
        {
            "id": "contracts",
            "number": "numbers",
            "report_pk": "reports",
            "evidence_pk": "evidence",
            "measurement_pk": "measurements",
            "signature_pk": "signatures",
        },
    ),
]

lines = ["# Written by .ci/schemathesis_config.py from the demo database.", ""]
for name, values in dictionaries.items():
    lines += [f"[dictionaries.{name}]", f"values = {values}", ""]
for regex, parameters in bindings:
    lines += ["[[operations]]", f"include-path-regex = '{regex}'", "[operations.parameters]"]
    lines += [f'"path.{key}" = {{ dictionary = "{value}", probability = 0.5 }}' for key, value in parameters.items()]
    lines.append("")
print("\n".join(lines))
