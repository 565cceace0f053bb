"""Every write to agencies, programmes and phases: checked, validated, saved and audited in one transaction."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from audit.services import audit_model_saved, model_snapshot
from core.exceptions import require_perm
from procurement.models import Agency, Phase, Programme


def _apply(instance, data: dict[str, Any]) -> None:
    for name, value in data.items():
        setattr(instance, name, value)


@transaction.atomic
def agency_create(*, actor, data: dict[str, Any]) -> Agency:
    require_perm(actor, "procurement.add_agency")
    agency = Agency()
    _apply(agency, data)
    agency.full_clean()
    agency.save()
    audit_model_saved(instance=agency, before=None, actor=actor)
    return agency


@transaction.atomic
def agency_update(*, actor, agency: Agency, data: dict[str, Any]) -> Agency:
    agency = Agency.objects.select_for_update().get(pk=agency.pk)
    require_perm(actor, "procurement.change_agency", agency)
    before = model_snapshot(agency)
    _apply(agency, data)
    agency.full_clean()
    agency.save()
    audit_model_saved(instance=agency, before=before, actor=actor)
    return agency


@transaction.atomic
def programme_create(*, actor, data: dict[str, Any], steering_committee=()) -> Programme:
    require_perm(actor, "procurement.add_programme")
    programme = Programme(created_by=actor)
    _apply(programme, data)
    require_perm(actor, "procurement.change_programme", programme)  # officers only for their own agency
    programme.full_clean()
    programme.save()
    programme.steering_committee.set(steering_committee)
    audit_model_saved(instance=programme, before=None, actor=actor)
    return programme


@transaction.atomic
def programme_update(*, actor, programme: Programme, data: dict[str, Any], steering_committee=None) -> Programme:
    programme = Programme.objects.select_for_update().get(pk=programme.pk)
    require_perm(actor, "procurement.change_programme", programme)
    before = model_snapshot(programme)
    _apply(programme, data)
    require_perm(actor, "procurement.change_programme", programme)  # cannot hand it to another agency
    programme.full_clean()
    programme.save()
    if steering_committee is not None:
        programme.steering_committee.set(steering_committee)
    audit_model_saved(instance=programme, before=before, actor=actor)
    return programme


@transaction.atomic
def phase_create(*, actor, programme: Programme, data: dict[str, Any]) -> Phase:
    # Lock the programme so that two officers cannot both take the last of its budget.
    programme = Programme.objects.select_for_update().get(pk=programme.pk)
    require_perm(actor, "procurement.add_phase", programme)
    phase = Phase(programme=programme)
    _apply(phase, data)
    phase.full_clean()
    phase.save()
    audit_model_saved(instance=phase, before=None, actor=actor)
    return phase


@transaction.atomic
def phase_update(*, actor, phase: Phase, data: dict[str, Any]) -> Phase:
    Programme.objects.select_for_update().get(pk=phase.programme_id)
    phase = Phase.objects.select_related("programme").get(pk=phase.pk)
    require_perm(actor, "procurement.change_phase", phase)
    before = model_snapshot(phase)
    data = {key: value for key, value in data.items() if key != "programme"}
    _apply(phase, data)
    phase.full_clean()
    phase.save()
    audit_model_saved(instance=phase, before=before, actor=actor)
    return phase
