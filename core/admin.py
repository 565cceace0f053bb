from django.contrib import admin


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records that move only through their workflow services: the admin shows them, never edits them."""

    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
