"""The agency, programme and phase services: permission, validation, audit, all in one transaction."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from audit.models import AuditEvent
from procurement import services
from procurement.models import Agency, Phase, Programme
from tests.procurement.factories import AgencyFactory, PhaseFactory


def programme_data(agency, **overrides):
    data = {
        "code": "DGP",
        "name_en": "Digital Government Programme",
        "name_ar": "برنامج الحكومة الرقمية",
        "sponsor_agency": agency,
        "budget": Decimal("500000.00"),
        "currency": "SAR",
        "start_date": datetime.date(2026, 1, 1),
        "end_date": datetime.date(2027, 12, 31),
    }
    data.update(overrides)
    return data


def phase_data(**overrides):
    data = {
        "order": 1,
        "name_en": "Strategy",
        "name_ar": "الاستراتيجية",
        "start_date": datetime.date(2026, 1, 1),
        "end_date": datetime.date(2026, 6, 30),
        "budget": Decimal("100000.00"),
    }
    data.update(overrides)
    return data


class TestProgrammeCreate:
    def test_officer_creates_a_programme_for_their_agency_and_it_is_audited(self, officer, agency, approver):
        programme = services.programme_create(actor=officer, data=programme_data(agency), steering_committee=[approver])

        assert programme.created_by == officer
        assert list(programme.steering_committee.all()) == [approver]
        event = AuditEvent.objects.get(action="procurement.programme.created")
        assert event.actor == officer
        assert event.programme_id == programme.pk
        assert event.agency_id == agency.pk
        assert event.payload["after"]["code"] == "DGP"
        assert event.payload["after"]["budget"] == "500000.00"
        assert event.payload["after"]["steering_committee"] == [approver.pk]

    def test_officer_cannot_create_a_programme_for_another_agency(self, officer, other_agency):
        with pytest.raises(PermissionDenied):
            services.programme_create(actor=officer, data=programme_data(other_agency))
        assert not Programme.objects.exists()
        assert not AuditEvent.objects.filter(action__startswith="procurement.programme").exists()

    @pytest.mark.parametrize("role_fixture", ["approver", "auditor", "vendor_user", "committee_member"])
    def test_other_roles_cannot_create_a_programme(self, request, role_fixture, agency):
        actor = request.getfixturevalue(role_fixture)
        with pytest.raises(PermissionDenied):
            services.programme_create(actor=actor, data=programme_data(agency))
        assert not Programme.objects.exists()

    def test_end_before_start_is_refused_and_nothing_is_written(self, officer, agency):
        with pytest.raises(ValidationError) as error:
            services.programme_create(actor=officer, data=programme_data(agency, end_date=datetime.date(2025, 12, 31)))
        assert "end_date" in error.value.message_dict
        assert not Programme.objects.exists()
        assert not AuditEvent.objects.exists()

    def test_negative_budget_is_refused(self, officer, agency):
        with pytest.raises(ValidationError) as error:
            services.programme_create(actor=officer, data=programme_data(agency, budget=Decimal("-1")))
        assert "budget" in error.value.message_dict


class TestProgrammeUpdate:
    def test_change_is_audited_with_before_and_after(self, officer, programme):
        services.programme_update(
            actor=officer, programme=programme, data={"budget": Decimal("2000000.00"), "name_en": "Renamed"}
        )

        event = AuditEvent.objects.get(action="procurement.programme.changed")
        assert event.payload["before"] == {"budget": "1000000.00", "name_en": programme.name_en}
        assert event.payload["after"] == {"budget": "2000000.00", "name_en": "Renamed"}
        assert event.actor == officer

    def test_officer_of_another_agency_is_refused(self, other_officer, programme):
        with pytest.raises(PermissionDenied):
            services.programme_update(actor=other_officer, programme=programme, data={"name_en": "Hijacked"})
        programme.refresh_from_db()
        assert programme.name_en != "Hijacked"

    def test_officer_cannot_hand_the_programme_to_another_agency(self, officer, programme, other_agency):
        with pytest.raises(PermissionDenied):
            services.programme_update(actor=officer, programme=programme, data={"sponsor_agency": other_agency})
        programme.refresh_from_db()
        assert programme.sponsor_agency_id != other_agency.pk

    def test_budget_below_the_phases_total_is_refused(self, officer, programme):
        PhaseFactory(programme=programme, order=1, budget=Decimal("600000.00"))
        with pytest.raises(ValidationError) as error:
            services.programme_update(actor=officer, programme=programme, data={"budget": Decimal("500000.00")})
        assert "600,000.00" in str(error.value.message_dict["budget"])

    def test_dates_that_would_leave_a_phase_outside_are_refused(self, officer, programme):
        PhaseFactory(programme=programme, order=1, start_date=datetime.date(2026, 1, 1))
        with pytest.raises(ValidationError) as error:
            services.programme_update(
                actor=officer, programme=programme, data={"start_date": datetime.date(2026, 3, 1)}
            )
        assert "start_date" in error.value.message_dict

    def test_administrator_may_edit_any_programme(self, administrator, programme):
        services.programme_update(actor=administrator, programme=programme, data={"name_en": "By admin"})
        programme.refresh_from_db()
        assert programme.name_en == "By admin"


class TestPhases:
    def test_officer_adds_a_phase_and_it_is_audited(self, officer, programme):
        phase = services.phase_create(actor=officer, programme=programme, data=phase_data())

        assert phase.programme == programme
        event = AuditEvent.objects.get(action="procurement.phase.created")
        assert event.programme_id == programme.pk
        assert event.payload["after"]["name_ar"] == "الاستراتيجية"

    @pytest.mark.parametrize(
        ("overrides", "field"),
        [
            ({"start_date": datetime.date(2025, 12, 31)}, "start_date"),
            ({"end_date": datetime.date(2029, 1, 1)}, "end_date"),
            ({"end_date": datetime.date(2025, 12, 1), "start_date": datetime.date(2026, 1, 1)}, "end_date"),
            ({"budget": Decimal("-5.00")}, "budget"),
            ({"budget": Decimal("1000000.01")}, "budget"),
        ],
        ids=["starts-before-programme", "ends-after-programme", "ends-before-start", "negative", "over-budget"],
    )
    def test_bad_phase_is_refused_and_nothing_is_written(self, officer, programme, overrides, field):
        with pytest.raises(ValidationError) as error:
            services.phase_create(actor=officer, programme=programme, data=phase_data(**overrides))
        assert field in error.value.message_dict
        assert not Phase.objects.exists()
        assert not AuditEvent.objects.filter(action__startswith="procurement.phase").exists()

    def test_budget_total_counts_the_other_phases(self, officer, programme):
        services.phase_create(actor=officer, programme=programme, data=phase_data(budget=Decimal("900000.00")))
        with pytest.raises(ValidationError) as error:
            services.phase_create(
                actor=officer,
                programme=programme,
                data=phase_data(order=2, start_date=datetime.date(2026, 7, 1), budget=Decimal("100000.01")),
            )
        assert "100,000.00" in " ".join(error.value.message_dict["budget"])

    def test_editing_a_phase_does_not_count_its_own_old_budget(self, officer, programme):
        phase = services.phase_create(actor=officer, programme=programme, data=phase_data(budget=Decimal("900000")))
        services.phase_update(actor=officer, phase=phase, data={"budget": Decimal("1000000.00")})
        phase.refresh_from_db()
        assert phase.budget == Decimal("1000000.00")

    def test_duplicate_order_is_refused(self, officer, programme):
        services.phase_create(actor=officer, programme=programme, data=phase_data())
        with pytest.raises(ValidationError) as error:
            services.phase_create(actor=officer, programme=programme, data=phase_data(name_en="Again"))
        assert "order" in error.value.message_dict

    def test_order_must_follow_the_start_dates(self, officer, programme):
        services.phase_create(actor=officer, programme=programme, data=phase_data(start_date=datetime.date(2026, 3, 1)))
        with pytest.raises(ValidationError) as error:
            services.phase_create(
                actor=officer, programme=programme, data=phase_data(order=2, start_date=datetime.date(2026, 2, 1))
            )
        assert "order" in error.value.message_dict

    def test_officer_of_another_agency_cannot_add_or_edit_phases(self, other_officer, officer, programme):
        with pytest.raises(PermissionDenied):
            services.phase_create(actor=other_officer, programme=programme, data=phase_data())
        phase = services.phase_create(actor=officer, programme=programme, data=phase_data())
        with pytest.raises(PermissionDenied):
            services.phase_update(actor=other_officer, phase=phase, data={"name_en": "Hijacked"})
        phase.refresh_from_db()
        assert phase.name_en == "Strategy"

    def test_phase_cannot_be_moved_to_another_programme(self, officer, programme):
        phase = services.phase_create(actor=officer, programme=programme, data=phase_data())
        other = AgencyFactory()
        services.phase_update(actor=officer, phase=phase, data={"programme": other, "name_en": "Kept"})
        phase.refresh_from_db()
        assert phase.programme_id == programme.pk
        assert phase.name_en == "Kept"


class TestAgencies:
    def test_administrator_creates_a_department_under_a_ministry(self, administrator, agency):
        department = services.agency_create(
            actor=administrator,
            data={
                "code": "mcit-egov",
                "name_en": "e-Gov office",
                "name_ar": "مكتب",
                "parent": agency,
                "kind": "department",
            },
        )
        assert department.code == "MCIT-EGOV"
        assert department.ancestors() == [agency]
        assert AuditEvent.objects.filter(action="procurement.agency.created", object_id=str(department.pk)).exists()

    def test_an_agency_cannot_be_part_of_its_own_department(self, administrator, agency):
        department = AgencyFactory(parent=agency)
        with pytest.raises(ValidationError) as error:
            services.agency_update(actor=administrator, agency=agency, data={"parent": department})
        assert "parent" in error.value.message_dict
        agency.refresh_from_db()
        assert agency.parent_id is None

    @pytest.mark.parametrize("role_fixture", ["officer", "approver", "auditor", "vendor_user"])
    def test_only_administrators_manage_agencies(self, request, role_fixture):
        actor = request.getfixturevalue(role_fixture)
        with pytest.raises(PermissionDenied):
            services.agency_create(actor=actor, data={"code": "NEW", "name_en": "New", "name_ar": "جديد"})
        assert not Agency.objects.filter(code="NEW").exists()

    def test_unknown_time_zone_is_refused(self, administrator):
        with pytest.raises(ValidationError) as error:
            services.agency_create(
                actor=administrator,
                data={"code": "TZ", "name_en": "Zone", "name_ar": "منطقة", "time_zone": "Mars/Olympus"},
            )
        assert "time_zone" in error.value.message_dict
