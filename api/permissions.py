"""API permissions: every answer comes from ``accounts/rules.py`` through ``user.has_perm``."""

from __future__ import annotations

from rest_framework.permissions import BasePermission


class HasRule(BasePermission):
    """The caller holds the view's ``rule`` (without an object) to use the endpoint at all."""

    def has_permission(self, request, view) -> bool:
        return request.user.has_perm(view.rule)


class HasObjectRule(BasePermission):
    """The caller holds the view's ``object_rule`` on the object (the same rule the web page checks)."""

    def has_permission(self, request, view) -> bool:
        return True

    def has_object_permission(self, request, view, obj) -> bool:
        return request.user.has_perm(view.object_rule, obj)
