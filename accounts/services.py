"""Writes to people and their roles."""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.db import transaction

from accounts.models import User
from accounts.roles import Role
from audit.services import audit_event_append, audit_model_saved, model_snapshot
from core.exceptions import require_perm


@transaction.atomic
def user_create(*, actor, email: str, full_name: str, password: str | None, roles=(), **fields) -> User:
    if actor is not None:
        require_perm(actor, "accounts.add_user")
    user = User(email=email, full_name=full_name, **fields)
    user.set_password(password)
    user.full_clean(exclude=["password"])
    user.validate_roles(list(roles))
    user.save()
    user.groups.set(_groups(roles))
    audit_model_saved(instance=user, before=None, actor=actor, action_prefix="accounts.user")
    return user


@transaction.atomic
def user_set_roles(*, actor, user: User, roles) -> User:
    """Give ``user`` exactly these roles (each a group), and record the change."""
    if actor is not None:
        require_perm(actor, "accounts.change_user", user)
    roles = sorted({str(Role(r)) for r in roles})
    user.validate_roles(roles)
    before = sorted(user.groups.values_list("name", flat=True))
    if before != roles:
        user.groups.set(_groups(roles))
        user.__dict__.pop("role_names", None)
        audit_event_append(
            action="accounts.user.roles_changed",
            actor=actor,
            obj=user,
            scope={"agency_id": user.agency_id},
            payload={"before": before, "after": roles},
        )
    return user


def _groups(roles) -> list[Group]:
    return [Group.objects.get_or_create(name=str(Role(role)))[0] for role in roles]


def user_snapshot(user: User) -> dict:
    return model_snapshot(user, exclude=("password", "last_login", "date_joined"))
