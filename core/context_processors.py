from django.urls import reverse


def navigation(request) -> dict:
    """The main navigation, showing each person only the places their roles open."""
    user = getattr(request, "user", None)
    items = [
        ("core:home", "home"),
        ("procurement:programme_list", "programmes"),
        ("procurement:agency_list", "agencies"),
    ]
    if user is not None and user.is_authenticated:
        items.insert(1, ("core:dashboard", "dashboard"))
        if user.has_perm("audit.view_auditevent"):
            items.append(("audit:event_list", "audit"))
    current = getattr(getattr(request, "resolver_match", None), "view_name", "")
    return {
        "nav_items": [{"url": reverse(name), "key": key, "current": current == name} for name, key in items],
        "can_use_admin": bool(
            user is not None and user.is_authenticated and user.is_staff and user.has_perm("admin.access")
        ),
    }
