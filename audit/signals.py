"""Sign-ins, sign-outs and failed sign-ins go to the audit log."""

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from audit.services import audit_event_append
from audit.services import client_details as _client


@receiver(user_logged_in, dispatch_uid="audit_signed_in")
def record_sign_in(sender, request, user, **kwargs):
    audit_event_append(action="auth.signed_in", actor=user, obj=user, payload=_client(request))


@receiver(user_logged_out, dispatch_uid="audit_signed_out")
def record_sign_out(sender, request, user, **kwargs):
    if user is None:
        return
    audit_event_append(action="auth.signed_out", actor=user, obj=user, payload=_client(request))


@receiver(user_login_failed, dispatch_uid="audit_sign_in_failed")
def record_sign_in_failure(sender, credentials, request=None, **kwargs):
    attempted = str(credentials.get("email") or credentials.get("username") or "")[:254]
    audit_event_append(
        action="auth.sign_in_failed",
        actor=None,
        actor_label="anonymous",
        payload={"attempted_email": attempted, **_client(request)},
    )
