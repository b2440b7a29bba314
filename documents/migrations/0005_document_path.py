from django.db import migrations, models


class Migration(migrations.Migration):
    """A document's path within its collection is called ``path`` (it was ``source``)."""

    dependencies = [("documents", "0004_vectors_stored_inline")]

    operations = [
        migrations.RemoveConstraint(model_name="document", name="document_unique_source"),
        migrations.RenameField(model_name="document", old_name="source", new_name="path"),
        migrations.AlterModelOptions(name="document", options={"ordering": ["collection", "path"]}),
        migrations.AddConstraint(
            model_name="document",
            constraint=models.UniqueConstraint(fields=("collection", "path"), name="document_unique_path"),
        ),
        migrations.AlterField(
            model_name="importjob",
            name="errors",
            field=models.JSONField(blank=True, default=list, help_text="[path, reason] for each failure."),
        ),
    ]
