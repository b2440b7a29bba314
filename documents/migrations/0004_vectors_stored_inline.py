from django.db import migrations

# A 384-dimension vector takes 1,540 bytes. With the default EXTENDED storage, PostgreSQL moves it
# out of a chunk row that passes 2 kB (with its text and search vector, most rows do), and every
# exact scan then fetches each vector from the TOAST table: a 6,000-chunk search read 18,000 extra
# buffers and took 30 ms instead of a few. PLAIN keeps vectors in the row (text and search vector
# still move out if a row needs room). The planner does not count TOAST fetches, so this is also
# what makes its choice between the exact scan and the HNSW index a fair one. Rows written before
# this migration keep their old layout until the table is rewritten (VACUUM FULL documents_chunk).
VECTOR_COLUMNS = (("documents_chunk", "embedding"), ("documents_document", "embedding"))


class Migration(migrations.Migration):
    dependencies = [
        ("documents", "0003_document_embedding"),
    ]

    operations = [
        migrations.RunSQL(
            f"ALTER TABLE {table} ALTER COLUMN {column} SET STORAGE PLAIN",
            reverse_sql=f"ALTER TABLE {table} ALTER COLUMN {column} SET STORAGE EXTENDED",
        )
        for table, column in VECTOR_COLUMNS
    ]
