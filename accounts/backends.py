from django.contrib.auth.backends import ModelBackend


class EmailBackend(ModelBackend):
    """Signs people in by e-mail address (case-insensitive).

    Permissions are not granted here: every permission, with or without an object, is decided by
    the rules in ``accounts/rules.py`` (through ``rules.permissions.ObjectPermissionBackend``), so
    that "may this user do X to this object" has exactly one answer.
    """

    def has_perm(self, user_obj, perm, obj=None):
        return False

    def has_module_perms(self, user_obj, app_label):
        return False

    def get_all_permissions(self, user_obj, obj=None):
        return set()

    def get_user_permissions(self, user_obj, obj=None):
        return set()

    def get_group_permissions(self, user_obj, obj=None):
        return set()
