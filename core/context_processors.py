from django.urls import NoReverseMatch, reverse


def _url(name: str) -> str | None:
    try:
        return reverse(name)
    except NoReverseMatch:  # an app that is not installed in this deployment
        return None


def navigation(request) -> dict:
    """The main navigation, showing each person only the places their roles open."""
    user = getattr(request, "user", None)
    items = [
        ("core:home", "home"),
        ("portal:tender_list", "tenders"),
        ("procurement:programme_list", "programmes"),
        ("procurement:agency_list", "agencies"),
        ("desk:home", "desk"),
    ]
    unread = 0
    if user is None or not user.is_authenticated:
        items.append(("vendors:register", "register"))
    if user is not None and user.is_authenticated:
        items.insert(1, ("core:dashboard", "dashboard"))
        if user.has_role("procurement_officer") or user.has_role("approver") or user.has_perm("audit.view_auditevent"):
            items.insert(3, ("procurement:tender_list", "agency_tenders"))
        if user.has_role("vendor_user"):
            items.append(("vendors:my_company", "my_company"))
            items.append(("procurement:bid_list", "my_bids"))
        if (
            user.has_role("procurement_officer")
            or user.has_role("approver")
            or user.has_role("vendor_user")
            or user.has_perm("audit.view_auditevent")
        ):
            items.append(("contracts:contract_list", "contracts"))
        if user.has_role("procurement_officer") or user.has_role("approver") or user.has_perm("audit.view_auditevent"):
            items.append(("vendors:vendor_list", "vendors"))
        if user.has_perm("audit.view_auditevent"):
            items.append(("audit:event_list", "audit"))
        items.append(("notifications:list", "notifications"))
        from notifications.models import Notification

        unread = Notification.objects.for_user(user).unread()[:100].count()
    current = getattr(getattr(request, "resolver_match", None), "view_name", "")
    return {
        "nav_items": [
            {"url": url, "key": key, "current": current == name}
            for name, key in items
            if (url := _url(name)) is not None
        ],
        "unread_notifications": unread,
        "can_use_admin": bool(
            user is not None and user.is_authenticated and user.is_staff and user.has_perm("admin.access")
        ),
    }
