import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from core.pagination import keyset_page
from notifications.models import Notification
from notifications.services import notification_mark_read


@login_required
def notification_list(request):
    """The signed-in person's notifications, newest first; only their own, ever."""
    queryset = Notification.objects.for_user(request.user).select_related("tender__agency")
    page = keyset_page(
        queryset,
        key="id",
        descending=True,
        after=request.GET.get("after"),
        before=request.GET.get("before"),
        size=25,
        to_python=int,
    )
    return render(request, "notifications/list.html", {"page": page})


@login_required
@require_POST
def notification_mark_all_read(request):
    ids = request.POST.getlist("notification")
    # ASCII digits only, within the range of a database id (str.isdigit() also accepts "١٢٣").
    valid = [int(i) for i in ids if re.fullmatch(r"[0-9]{1,18}", i)]
    count = notification_mark_read(user=request.user, notification_ids=valid)
    messages.success(
        request,
        ngettext("%(count)s notification marked as read.", "%(count)s notifications marked as read.", count)
        % {"count": count},
    )
    return redirect("notifications:list")
