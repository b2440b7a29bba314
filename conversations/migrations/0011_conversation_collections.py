from django.db import migrations, models


def choose_the_named_collection(apps, schema_editor):
    """A conversation limited to one collection by name now chooses that collection."""
    Conversation = apps.get_model("conversations", "Conversation")
    Collection = apps.get_model("documents", "Collection")
    for conversation in Conversation.objects.exclude(collection=""):
        collection = Collection.objects.filter(name=conversation.collection).first()
        if collection is not None:
            conversation.collections.add(collection)


class Migration(migrations.Migration):
    dependencies = [
        ("conversations", "0010_insight_permission"),
        ("documents", "0006_collections"),
    ]

    operations = [
        migrations.AddField(
            model_name="conversation",
            name="collections",
            field=models.ManyToManyField(
                blank=True,
                help_text="What its questions search. None: every collection its owner may read, as it is at each question.",
                related_name="+",
                to="documents.collection",
            ),
        ),
        migrations.RunPython(choose_the_named_collection, migrations.RunPython.noop),
        migrations.RemoveField(model_name="conversation", name="collection"),
    ]
