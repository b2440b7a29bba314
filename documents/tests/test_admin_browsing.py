import re

from django.urls import reverse

from documents.models import Chunk, Document


def test_documents_are_listed_with_their_chunk_counts(staff_client, knowledge_base):
    html = staff_client.get(reverse("admin:documents_document_changelist")).content.decode()
    garden = Document.objects.get(title="Garden")
    counts = dict(re.findall(r'>([\w/.]+)</a></th>.*?<td class="field-chunk_count">(\d+)</td>', html))
    assert counts == {"bikes.html": "2", "garden/roses.md": "2", "kettle.txt": "1"}
    assert staff_client.get(reverse("admin:documents_document_change", args=[garden.pk])).status_code == 200


def test_chunks_can_be_searched_and_opened(staff_client, knowledge_base):
    html = staff_client.get(reverse("admin:documents_chunk_changelist"), {"q": "tomatoes"}).content.decode()
    assert "Garden › Tomatoes" in html and "Garden › Roses" not in html and "Kettle care" not in html
    chunk = Chunk.objects.get(heading="Garden › Tomatoes")
    assert staff_client.get(reverse("admin:documents_chunk_change", args=[chunk.pk])).status_code == 200
