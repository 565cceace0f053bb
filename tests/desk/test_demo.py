import pytest

from accounts.roles import Role
from core.demo_desk import demo_tracking_key, desk_demo_guide, seed_demo_desk
from desk import services
from desk.models import DeskItem, FaqEntry, ItemStatus
from notifications.models import Notification
from tests.accounts.factories import UserFactory
from tests.procurement.factories import AgencyFactory

pytestmark = pytest.mark.django_db


def test_demo_desk_covers_every_state_and_is_idempotent(client):
    ministry = AgencyFactory(code="MCIT")
    officer = UserFactory(agency=ministry, roles=[Role.PROCUREMENT_OFFICER])
    colleague = UserFactory(agency=ministry, roles=[Role.PROCUREMENT_OFFICER])
    approver = UserFactory(agency=ministry, roles=[Role.APPROVER])
    made = seed_demo_desk(officer=officer, colleague=colleague)
    assert made == DeskItem.objects.count() > 5
    assert seed_demo_desk(officer=officer, colleague=colleague) == 0
    statuses = set(DeskItem.objects.values_list("status", flat=True))
    assert statuses == set(ItemStatus.values)
    assert DeskItem.objects.filter(escalated_at__isnull=False).exists()
    assert DeskItem.objects.filter(reopened_count=1, status=ItemStatus.ASSIGNED).exists()
    assert FaqEntry.objects.published().count() == 1
    assert Notification.objects.filter(kind="desk.escalated", recipient=approver).exists()
    guide = desk_demo_guide()
    item = DeskItem.objects.order_by("pk").first()
    assert services.item_for_tracking(item.reference, demo_tracking_key(item.reference)) == item
    path = guide[0].rsplit(": ", 1)[1]
    assert client.get(path).status_code == 200
