"""The open-data endpoints: ``/ocds/releases.json`` (a release package, newest contracting processes first, by
pages with ``links.next``) and ``/ocds/records/<ocid>.json`` (a record package with the compiled release).
Public, read-only, no language prefix; what they show is what ``procurement.ocds`` builds."""

from __future__ import annotations

import copy

from django.http import Http404, JsonResponse
from django.urls import path, reverse
from django.views.decorators.http import require_GET

from procurement.ocds import ocid_prefix, package_header, public_tenders, tender_releases

PAGE_SIZE = 50


def _releases_of(tenders) -> list[dict]:
    releases = []
    for tender in tenders:
        tender.ocds_opened = tender.status not in ("published", "closed", "cancelled")
        releases.extend(tender_releases(tender))
    return releases


@require_GET
def releases(request):
    """Releases of a page of contracting processes, newest first (keyset on the tender id, no COUNT)."""
    queryset = public_tenders().order_by("-id")
    before = request.GET.get("before")
    if before:
        try:
            queryset = queryset.filter(pk__lt=int(before))
        except ValueError:
            raise Http404 from None
    tenders = list(queryset[: PAGE_SIZE + 1])
    more = len(tenders) > PAGE_SIZE
    tenders = tenders[:PAGE_SIZE]
    package = package_header()
    package["uri"] = request.build_absolute_uri()
    package["releases"] = sorted(_releases_of(tenders), key=lambda r: r["date"], reverse=True)
    if more:
        package["links"] = {"next": request.build_absolute_uri(f"{reverse('ocds_releases')}?before={tenders[-1].pk}")}
    response = JsonResponse(package, json_dumps_params={"ensure_ascii": False})
    response["Access-Control-Allow-Origin"] = "*"
    return response


def _compile(releases: list[dict]) -> dict:
    """The compiled release: each section as the latest release stating it left it."""
    compiled: dict = {}
    for release in releases:
        for key, value in release.items():
            if key in ("id", "date", "tag"):
                continue
            if key in ("awards", "contracts"):
                existing = {item["id"]: item for item in compiled.get(key, [])}
                for item in value:
                    existing[item["id"]] = copy.deepcopy(item)
                compiled[key] = list(existing.values())
            elif key == "parties":
                existing = {party["id"]: party for party in compiled.get(key, [])}
                for party in value:
                    merged = existing.get(party["id"], {})
                    roles = list(dict.fromkeys((merged.get("roles") or []) + party.get("roles", [])))
                    existing[party["id"]] = {**merged, **copy.deepcopy(party), "roles": roles}
                compiled[key] = list(existing.values())
            else:
                compiled[key] = copy.deepcopy(value)
    compiled["id"] = f"{compiled['ocid']}-compiled"
    compiled["date"] = releases[-1]["date"]
    compiled["tag"] = ["compiled"]
    return compiled


@require_GET
def record(request, ocid: str):
    prefix = f"{ocid_prefix()}-"
    if not ocid.startswith(prefix) or not ocid[len(prefix) :].isdigit():
        raise Http404
    tender = public_tenders().filter(pk=int(ocid[len(prefix) :])).first()
    found = _releases_of([tender]) if tender is not None else []
    if not found:
        raise Http404
    package = package_header()
    package["uri"] = request.build_absolute_uri()
    package["records"] = [{"ocid": ocid, "releases": found, "compiledRelease": _compile(found)}]
    response = JsonResponse(package, json_dumps_params={"ensure_ascii": False})
    response["Access-Control-Allow-Origin"] = "*"
    return response


urlpatterns = [
    path("ocds/releases.json", releases, name="ocds_releases"),
    path("ocds/records/<str:ocid>.json", record, name="ocds_record"),
]
