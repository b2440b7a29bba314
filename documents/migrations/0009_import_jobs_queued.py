# Import jobs become queued work run by a worker (procrastinate), with one ImportFile per file.

import django.db.models.deletion
from django.db import migrations, models

UNFINISHED = ["queued", "running"]


def started_when_queued(apps, schema_editor):
    """Jobs recorded before the queue ran in the request: they started when they were recorded."""
    ImportJob = apps.get_model("documents", "ImportJob")
    ImportJob.objects.update(started_at=models.F("queued_at"))


class Migration(migrations.Migration):
    dependencies = [
        ("documents", "0008_collection_chunk_count"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="importjob", name="importjob_finished_unless_running"),
        migrations.RemoveIndex(model_name="importjob", name="importjob_recent"),
        migrations.RenameField(model_name="importjob", old_name="started_at", new_name="queued_at"),
        migrations.AddField(
            model_name="importjob",
            name="started_at",
            field=models.DateTimeField(blank=True, help_text="When a worker first took it.", null=True),
        ),
        migrations.RunPython(started_when_queued, migrations.RunPython.noop),
        migrations.RemoveField(model_name="importjob", name="added"),
        migrations.RemoveField(model_name="importjob", name="empty"),
        migrations.RemoveField(model_name="importjob", name="file_names"),
        migrations.AlterField(
            model_name="importjob",
            name="kind",
            field=models.CharField(
                choices=[("upload", "Upload"), ("import", "Import"), ("reembed", "Re-embed")], max_length=20
            ),
        ),
        migrations.AlterField(
            model_name="importjob",
            name="status",
            field=models.CharField(
                choices=[
                    ("queued", "Queued"),
                    ("running", "Running"),
                    ("succeeded", "Succeeded"),
                    ("partly_failed", "Partly failed"),
                    ("failed", "Failed"),
                    ("cancelled", "Cancelled"),
                ],
                default="queued",
                max_length=20,
            ),
        ),
        migrations.AlterField(
            model_name="importjob",
            name="errors",
            field=models.JSONField(
                blank=True, default=list, help_text="[collection, reason] when a re-embedding stopped."
            ),
        ),
        migrations.AlterField(
            model_name="importjob",
            name="queued_at",
            field=models.DateTimeField(auto_now_add=True),
        ),
        migrations.AlterModelOptions(name="importjob", options={"ordering": ["-queued_at", "-id"]}),
        migrations.AddIndex(
            model_name="importjob",
            index=models.Index(fields=["collection", "-queued_at"], name="importjob_collection_recent"),
        ),
        migrations.AddIndex(
            model_name="importjob",
            index=models.Index(fields=["-queued_at"], name="importjob_recent"),
        ),
        migrations.AddConstraint(
            model_name="importjob",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("finished_at__isnull", True), ("status__in", UNFINISHED)),
                    models.Q(models.Q(("status__in", UNFINISHED), _negated=True), ("finished_at__isnull", False)),
                    _connector="OR",
                ),
                name="importjob_finished_unless_unfinished",
            ),
        ),
        migrations.CreateModel(
            name="ImportFile",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "path",
                    models.CharField(help_text="The document's path within its collection.", max_length=500),
                ),
                (
                    "upload",
                    models.CharField(
                        blank=True,
                        help_text="Its bytes' name in the default storage; emptied once imported.",
                        max_length=600,
                    ),
                ),
                ("size", models.PositiveBigIntegerField(default=0, help_text="Bytes.")),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("pending", "Pending"),
                            ("added", "Added"),
                            ("replaced", "Replaced"),
                            ("unchanged", "Unchanged"),
                            ("empty", "Empty"),
                            ("failed", "Failed"),
                            ("cancelled", "Cancelled"),
                        ],
                        default="pending",
                        max_length=20,
                    ),
                ),
                ("reason", models.TextField(blank=True, help_text="Why it failed, in words.")),
                ("passages", models.PositiveIntegerField(default=0, help_text="Passages written for it.")),
                ("finished_at", models.DateTimeField(blank=True, null=True)),
                (
                    "document",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="documents.document",
                    ),
                ),
                (
                    "job",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="files", to="documents.importjob"
                    ),
                ),
            ],
            options={
                "ordering": ["job", "id"],
                "indexes": [models.Index(fields=["job", "status"], name="importfile_job_status")],
                "constraints": [models.UniqueConstraint(fields=("job", "path"), name="importfile_unique_path")],
            },
        ),
    ]
