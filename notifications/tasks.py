from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone, translation
from django_tasks import task

from notifications.models import Notification


@task()
def send_notification_email(notification_id: int) -> None:
    """E-mail one notification in its recipient's language (a background task)."""
    notification = Notification.objects.select_related("recipient", "tender").get(pk=notification_id)
    if notification.emailed_at is not None:
        return
    recipient = notification.recipient
    with translation.override(recipient.preferred_language or settings.LANGUAGE_CODE):
        subject, body = notification.subject, notification.body
        link = notification.link
    if link:
        body = f"{body}\n\n{settings.SITE_URL}{link}"
    send_mail(subject, body, settings.NOTIFICATIONS_FROM_EMAIL, [recipient.email])
    Notification.objects.filter(pk=notification.pk).update(emailed_at=timezone.now())
