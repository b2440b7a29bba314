from django.contrib import admin
from django.db.models import Count

from documents.models import Chunk, Document


@admin.register(Document)
class DocumentAdmin(admin.ModelAdmin):
    list_display = ["source", "title", "collection", "chunk_count", "updated_at"]
    list_filter = ["collection", "updated_at"]
    search_fields = ["source", "title"]
    readonly_fields = ["content_hash", "created_at", "updated_at"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(chunk_count=Count("chunks"))

    @admin.display(ordering="chunk_count", description="Chunks")
    def chunk_count(self, obj: Document) -> int:
        return obj.chunk_count


@admin.register(Chunk)
class ChunkAdmin(admin.ModelAdmin):
    list_display = ["__str__", "heading", "document"]
    list_filter = ["document__collection"]
    list_select_related = ["document"]
    search_fields = ["text", "heading", "document__source"]
    raw_id_fields = ["document"]
    # The vector is 384 numbers: not something to read or edit by hand.
    exclude = ["embedding"]
    readonly_fields = ["document", "position", "heading", "text"]

    def has_add_permission(self, request) -> bool:
        return False
