"""The category code list is data: administrators add or retire categories here. Entries,
versions and evidence change only through the services, so they are not editable here."""

from django.contrib import admin

from .models import Category


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "sort_order", "is_active")
    list_editable = ("sort_order", "is_active")

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # entries refer to categories; retire one with is_active instead
