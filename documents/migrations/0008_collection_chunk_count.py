from django.db import migrations, models

# Statement-level triggers with transition tables: one UPDATE per statement, however many chunks
# it wrote or deleted (an import's bulk insert, a document's or a collection's cascade, the admin).
# A chunk never changes collection, so inserts and deletes are all there is to count.
COUNT_CHUNKS = """
CREATE FUNCTION documents_count_chunks() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE documents_collection col SET chunk_count = col.chunk_count + changed.n
        FROM (SELECT collection, count(*) AS n FROM new_chunks GROUP BY collection) changed
        WHERE col.name = changed.collection;
    ELSE
        UPDATE documents_collection col SET chunk_count = col.chunk_count - changed.n
        FROM (SELECT collection, count(*) AS n FROM old_chunks GROUP BY collection) changed
        WHERE col.name = changed.collection;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER chunk_count_insert AFTER INSERT ON documents_chunk
    REFERENCING NEW TABLE AS new_chunks FOR EACH STATEMENT EXECUTE FUNCTION documents_count_chunks();
CREATE TRIGGER chunk_count_delete AFTER DELETE ON documents_chunk
    REFERENCING OLD TABLE AS old_chunks FOR EACH STATEMENT EXECUTE FUNCTION documents_count_chunks();
UPDATE documents_collection col SET chunk_count = counted.n
FROM (SELECT collection, count(*) AS n FROM documents_chunk GROUP BY collection) counted
WHERE col.name = counted.collection;
"""

DROP_COUNTING = """
DROP TRIGGER chunk_count_insert ON documents_chunk;
DROP TRIGGER chunk_count_delete ON documents_chunk;
DROP FUNCTION documents_count_chunks();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("documents", "0007_personal_collections_are_private"),
    ]

    operations = [
        migrations.AddField(
            model_name="collection",
            name="chunk_count",
            field=models.PositiveBigIntegerField(default=0, editable=False, help_text="Passages in its documents."),
        ),
        migrations.RunSQL(COUNT_CHUNKS, DROP_COUNTING),
    ]
