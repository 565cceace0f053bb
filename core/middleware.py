import zoneinfo

from django.conf import settings
from django.utils import timezone


class AgencyTimezoneMiddleware:
    """Times are stored in UTC and shown in the signed-in user's agency's time zone."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        name = settings.DISPLAY_TIME_ZONE
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.agency_id:
            name = user.agency.time_zone or name
        try:
            timezone.activate(zoneinfo.ZoneInfo(name))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
