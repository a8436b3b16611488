"""Read-only admin views: registry changes go through the services (permission + audit), so the
Django admin must not become a side door that writes without an audit row."""

from __future__ import annotations

from typing import Any

from django.contrib import admin

from .models import Enterprise, ImportBatch, Industry


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(Enterprise)
class EnterpriseAdmin(ReadOnlyAdmin):
    list_display = ("name", "uscc", "town", "industry", "size_class", "status")
    list_filter = ("size_class", "status")
    search_fields = ("name", "uscc")
    list_select_related = ("town", "industry")


@admin.register(Industry)
class IndustryAdmin(ReadOnlyAdmin):
    list_display = ("code", "name")


@admin.register(ImportBatch)
class ImportBatchAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "kind", "original_name", "uploaded_by", "status", "row_count")
    list_filter = ("kind", "status")
    list_select_related = ("uploaded_by",)
