from django.db import migrations, models


def make_personal_collections_private(apps, schema_editor):
    """Before the constraint: a personal collection made organisation-wide in the admin becomes
    private again (its owner keeps it; everyone else stops reading it, as the rule now says)."""
    Collection = apps.get_model("documents", "Collection")
    Collection.objects.filter(personal=True).exclude(visibility="private").update(visibility="private")


class Migration(migrations.Migration):
    dependencies = [
        ("documents", "0006_collections"),
    ]

    operations = [
        migrations.RunPython(make_personal_collections_private, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="collection",
            constraint=models.CheckConstraint(
                condition=models.Q(("personal", False), ("visibility", "private"), _connector="OR"),
                name="collection_personal_is_private",
                violation_error_message=(
                    "A personal collection (“My documents”) is its owner's alone: it cannot be shared or made "
                    "organisation-wide. Put documents meant for others in a collection of their own."
                ),
            ),
        ),
    ]
