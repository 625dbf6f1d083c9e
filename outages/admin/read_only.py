"""Records the console shows but never adds, edits or deletes by form: the write
side, the log or billing owns them."""


class ReadOnlyAdmin:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
