import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def collections_from_names(apps, schema_editor):
    """Every collection name in use becomes a collection the whole organisation reads, as before.

    Except the corpora `evaluate` imported (named eval-… by default): they were never meant for
    the chat, so they become private and owned by nobody, which only staff tools search.
    """
    Collection = apps.get_model("documents", "Collection")
    Document = apps.get_model("documents", "Document")
    for name in Document.objects.values_list("collection", flat=True).distinct():
        visibility = "private" if name.startswith("eval-") else "organisation"
        Collection.objects.get_or_create(name=name, defaults={"title": name, "visibility": visibility})


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("documents", "0005_document_path"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Collection",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.SlugField(help_text="Letters, digits, - and _; used in URLs.", max_length=100, unique=True)),
                ("title", models.CharField(max_length=200)),
                ("description", models.TextField(blank=True)),
                ("visibility", models.CharField(choices=[("private", "Private: its owner and members"), ("organisation", "Organisation: every signed-in user reads it")], default="private", max_length=20)),
                ("personal", models.BooleanField(default=False, help_text='Its owner\'s own documents ("My documents").')),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                ("owner", models.ForeignKey(blank=True, help_text="Empty: the organisation's, managed by staff.", null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="owned_collections", to=settings.AUTH_USER_MODEL)),
            ],
            options={
                "ordering": ["title", "name"],
                "constraints": [
                    models.UniqueConstraint(condition=models.Q(("personal", True)), fields=("owner",), name="collection_one_personal_per_owner"),
                ],
            },
        ),
        migrations.CreateModel(
            name="Membership",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("role", models.CharField(choices=[("reader", "Reader: asks and browses"), ("editor", "Editor: also adds and removes documents"), ("manager", "Manager: also shares, renames and deletes")], default="reader", max_length=20)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("collection", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="memberships", to="documents.collection")),
                ("group", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name="+", to="auth.group")),
                ("user", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name="+", to=settings.AUTH_USER_MODEL)),
            ],
            options={
                "ordering": ["collection", "id"],
                "indexes": [
                    models.Index(fields=["user", "collection"], name="membership_user"),
                    models.Index(fields=["group", "collection"], name="membership_group"),
                ],
                "constraints": [
                    models.CheckConstraint(condition=models.Q(("user__isnull", True), ("group__isnull", True), _connector="XOR"), name="membership_user_or_group"),
                    models.UniqueConstraint(condition=models.Q(("user__isnull", False)), fields=("collection", "user"), name="membership_unique_user"),
                    models.UniqueConstraint(condition=models.Q(("group__isnull", False)), fields=("collection", "group"), name="membership_unique_group"),
                ],
            },
        ),
        migrations.RunPython(collections_from_names, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="document",
            name="collection",
            field=models.ForeignKey(db_column="collection", on_delete=django.db.models.deletion.CASCADE, related_name="documents", to="documents.collection", to_field="name"),
        ),
        migrations.AddField(
            model_name="chunk",
            name="collection",
            field=models.ForeignKey(db_column="collection", db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name="+", to="documents.collection", to_field="name"),
        ),
        migrations.RunSQL(
            "UPDATE documents_chunk c SET collection = d.collection FROM documents_document d WHERE d.id = c.document_id",
            migrations.RunSQL.noop,
        ),
        migrations.AlterField(
            model_name="chunk",
            name="collection",
            field=models.ForeignKey(db_column="collection", db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name="+", to="documents.collection", to_field="name"),
        ),
    ]
