"""The e-mails the desk sends to the person who wrote to it, in the language they wrote in.

Each e-mail carries its own private tracking link (a fresh key, of which only the hash is stored), so the
plain key never reaches the database or the task queue: the e-mail is rendered and sent after the commit.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import EmailMessage
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from desk.models import DeskItem

logger = logging.getLogger(__name__)


def tracking_url(item: DeskItem, key: str) -> str:
    """The tracking page's path in the active language."""
    return reverse("desk:track", args=[item.reference, key])


def render_sender_email(item: DeskItem, *, kind: str, key: str) -> tuple[str, str]:
    """(subject, body) of the ``kind`` ("received" or "answered") e-mail, in the active language."""
    params = {
        "reference": item.reference,
        "kind": item.get_kind_display(),
        "name": item.sender_name,
        "agency": item.agency.name,
        "hours": settings.DESK_RESPONSE_HOURS.get(item.kind, 0),
        "days": settings.DESK_REOPEN_DAYS,
    }
    link = f"{settings.SITE_URL}{tracking_url(item, key)}"
    # The acknowledgement goes to an address nobody has confirmed yet: it repeats nothing the sender typed
    # (name, subject), so that the desk cannot be used to send someone else a message in the government's name.
    lines = [_("Hello,") if kind == "received" else _("Dear %(name)s,") % params, ""]
    if kind == "received":
        subject = _("We received your message %(reference)s") % params
        lines += [
            _("%(agency)s received your message (%(kind)s). We aim to answer within %(hours)s hours.") % params,
        ]
    else:
        subject = _("Answer to your message %(reference)s") % params
        lines += [_("%(agency)s answered your message (%(kind)s).") % params, "", _("Answer"), item.answer, ""]
        lines += [_("If the answer does not settle the matter, you may reopen it within %(days)s days.") % params]
    lines += [
        "",
        f"{_('Reference')}: {item.reference}",
        *([f"{_('Subject')}: {item.subject}"] if kind != "received" else []),
        "",
        _("Follow your message at this private link (do not share it):"),
        link,
    ]
    return subject, "\n".join(str(line) for line in lines)


def send_sender_email(item_id: int, *, kind: str, key: str) -> None:
    """Render in the sender's language and send; a failing mail server is logged, never shown to the sender."""
    item = DeskItem.objects.select_related("agency").get(pk=item_id)
    with translation.override(item.language):
        subject, body = render_sender_email(item, kind=kind, key=key)
    message = EmailMessage(
        subject,
        body,
        settings.NOTIFICATIONS_FROM_EMAIL,
        [item.sender_email],
        headers={"Content-Language": item.language},
    )
    message.send()
