from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.core.exceptions import ValidationError
from django.db import connection, models
from pgvector.django import HnswIndex, VectorField

EMBEDDING_DIMENSIONS = 384  # all-MiniLM-L6-v2
# Text search configuration of the generated search vector and of the queries against it.
FULL_TEXT_CONFIG = "english"


class Visibility(models.TextChoices):
    PRIVATE = "private", "Private: its owner and members"
    ORGANISATION = "organisation", "Organisation: every signed-in user reads it"


class Role(models.TextChoices):
    """What a member may do; each role may do everything the ones before it may."""

    READER = "reader", "Reader: asks and browses"
    EDITOR = "editor", "Editor: also adds and removes documents"
    MANAGER = "manager", "Manager: also shares, renames and deletes"


ROLE_ORDER = [Role.READER, Role.EDITOR, Role.MANAGER]

PERSONAL_NOT_SHARED = (
    "A personal collection (“My documents”) is its owner's alone: it cannot be shared or made "
    "organisation-wide. Put documents meant for others in a collection of their own."
)


class CollectionQuerySet(models.QuerySet):
    def readable_by(self, user) -> "CollectionQuerySet":
        """The collections ``user`` may read: organisation-wide ones, their own, and those shared
        with them or with one of their groups. The same rule as the search SQL (search.py)."""
        shared = Membership.objects.filter(
            models.Q(user=user) | models.Q(group__in=user.groups.all()), collection=models.OuterRef("pk")
        )
        return self.filter(models.Q(visibility=Visibility.ORGANISATION) | models.Q(owner=user) | models.Exists(shared))

    def personal_of(self, user) -> "CollectionQuerySet":
        """The user's own collection ("My documents"), if it has been made: none or one."""
        return self.filter(owner=user, personal=True)


class Collection(models.Model):
    """A knowledge base: documents people own and share. ``name`` is its address (URL-safe)."""

    name = models.SlugField(max_length=100, unique=True, help_text="Letters, digits, - and _; used in URLs.")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_collections",
        # A departing owner's shared collections stay (staff manage them); their personal one is
        # deleted with their data (datacare).
        help_text="Empty: the organisation's, managed by staff.",
    )
    visibility = models.CharField(max_length=20, choices=Visibility.choices, default=Visibility.PRIVATE)
    personal = models.BooleanField(default=False, help_text='Its owner\'s own documents ("My documents").')
    # Kept by triggers on documents_chunk (migration 0008), whatever writes or deletes chunks: a
    # search reads it to choose between comparing every readable chunk and walking the index.
    chunk_count = models.PositiveBigIntegerField(default=0, editable=False, help_text="Passages in its documents.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CollectionQuerySet.as_manager()

    class Meta:
        ordering = ["title", "name"]
        constraints = [
            # "My documents" is made on first use; two first uses at once make it once.
            models.UniqueConstraint(
                fields=["owner"], condition=models.Q(personal=True), name="collection_one_personal_per_owner"
            ),
            # A personal collection is its owner's alone (why: collections.py, PersonalCollectionNotShared).
            models.CheckConstraint(
                condition=models.Q(personal=False) | models.Q(visibility=Visibility.PRIVATE),
                name="collection_personal_is_private",
                violation_error_message=PERSONAL_NOT_SHARED,
            ),
        ]

    def __str__(self) -> str:
        return self.title or self.name

    def clean(self) -> None:
        # The constraint's rule again: a form without the "personal" field (the admin's, where it is
        # read-only) skips constraints on it, and the change would end in an IntegrityError.
        if self.personal and self.visibility != Visibility.PRIVATE:
            raise ValidationError({"visibility": PERSONAL_NOT_SHARED})


class Membership(models.Model):
    """A user or a group given a role in a collection."""

    collection = models.ForeignKey(Collection, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    group = models.ForeignKey("auth.Group", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.READER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["collection", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(user__isnull=True) ^ models.Q(group__isnull=True), name="membership_user_or_group"
            ),
            models.UniqueConstraint(
                fields=["collection", "user"], condition=models.Q(user__isnull=False), name="membership_unique_user"
            ),
            models.UniqueConstraint(
                fields=["collection", "group"], condition=models.Q(group__isnull=False), name="membership_unique_group"
            ),
        ]
        indexes = [
            # The permission join of every search: memberships of a user, and of a user's groups.
            models.Index(fields=["user", "collection"], name="membership_user"),
            models.Index(fields=["group", "collection"], name="membership_group"),
        ]

    def __str__(self) -> str:
        return f"{self.user or self.group} ({self.get_role_display()}) in {self.collection}"

    def clean(self) -> None:
        # The same rule as collections.collection_share, for the members inline of the admin.
        try:
            collection = self.collection
        except Collection.DoesNotExist:  # not chosen yet: the field's own validation says so
            return
        if collection.personal:
            raise ValidationError(PERSONAL_NOT_SHARED)


class Document(models.Model):
    """One imported file. ``path`` is its path relative to the folder it was imported from."""

    # Referenced by name (the collection's unique address), so the column keeps the name it always
    # held and lookups like collection="handbook" read as they did before collections were a model.
    collection = models.ForeignKey(
        Collection, on_delete=models.CASCADE, to_field="name", db_column="collection", related_name="documents"
    )
    path = models.CharField(max_length=500)
    title = models.CharField(max_length=300)
    content_hash = models.CharField(max_length=64, help_text="SHA-256 of the file's bytes.")
    metadata = models.JSONField(default=dict, blank=True)
    # The file as it was imported, in the default storage under a name made of its SHA-256
    # (originals.py), so an unchanged re-import stores nothing new. Empty for documents imported
    # before originals were kept.
    original = models.FileField(max_length=300, blank=True, editable=False)
    original_size = models.PositiveBigIntegerField(default=0, editable=False, help_text="Bytes of the original.")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        # Its index (Django's, as for every foreign key) serves the quota: SUM(original_size) by user.
        help_text="Who uploaded it from the pages; its original counts against their quota. Empty: imported by staff.",
    )
    # The mean of its chunks' vectors: what the document as a whole is about. Retrieval blends it
    # into each chunk's score (RETRIEVAL_DOCUMENT_WEIGHT); see refresh_document_embeddings.
    embedding = VectorField(dimensions=EMBEDDING_DIMENSIONS, null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["collection", "path"]
        constraints = [
            # Re-imports find the existing row by (collection, path).
            models.UniqueConstraint(fields=["collection", "path"], name="document_unique_path"),
        ]
        indexes = [
            # Whether any other document still uses an original before its file is deleted.
            models.Index(fields=["original"], name="document_original"),
        ]

    def __str__(self) -> str:
        return f"{self.collection}:{self.path}"


# Cosine distance ignores length, so the plain average of the chunk vectors serves as the
# document's direction without normalising it. One statement for any number of documents.
REFRESH_DOCUMENT_EMBEDDINGS_SQL = """
UPDATE documents_document d
SET embedding = (SELECT avg(c.embedding) FROM documents_chunk c WHERE c.document_id = d.id)
WHERE d.id = ANY(%s)"""


def refresh_document_embeddings(document_ids: list[int]) -> None:
    """Recompute the document vectors of ``document_ids`` from their chunks, as they are now."""
    with connection.cursor() as cursor:
        cursor.execute(REFRESH_DOCUMENT_EMBEDDINGS_SQL, [list(document_ids)])


class Chunk(models.Model):
    """A passage of a document, sized for the embedding model, with its heading path."""

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="chunks")
    # Its document's collection, copied (documents never change collection) so the permission
    # filter of a search reads the chunk row alone, beside the vector index.
    collection = models.ForeignKey(
        Collection,
        on_delete=models.CASCADE,
        to_field="name",
        db_column="collection",
        related_name="+",
        db_index=False,  # see the note in search.py: a btree here would tempt the planner off the vector index
    )
    position = models.PositiveIntegerField(help_text="Order of the chunk within its document.")
    heading = models.CharField(max_length=500, blank=True, help_text="Title › section › subsection.")
    text = models.TextField()
    page = models.PositiveIntegerField(
        null=True, blank=True, help_text="1-based page (PDF) or slide (presentation) the passage starts on."
    )
    embedding = VectorField(dimensions=EMBEDDING_DIMENSIONS)
    search_vector = models.GeneratedField(
        # The english configuration is given as a literal so the expression is immutable,
        # which PostgreSQL requires of a stored generated column.
        expression=SearchVector("heading", weight="A", config=FULL_TEXT_CONFIG)
        + SearchVector("text", weight="B", config=FULL_TEXT_CONFIG),
        output_field=SearchVectorField(),
        db_persist=True,
    )

    class Meta:
        ordering = ["document", "position"]
        constraints = [
            models.UniqueConstraint(fields=["document", "position"], name="chunk_unique_position"),
        ]
        indexes = [
            # Nearest-neighbour search: ORDER BY embedding <=> query (cosine distance).
            HnswIndex(
                name="chunk_embedding_cosine_hnsw",
                fields=["embedding"],
                m=16,
                ef_construction=64,
                opclasses=["vector_cosine_ops"],
            ),
            # Keyword search: WHERE search_vector @@ tsquery.
            GinIndex(name="chunk_search_vector_gin", fields=["search_vector"]),
        ]

    def __str__(self) -> str:
        return f"{self.document.path} #{self.position}"


class ImportJobKind(models.TextChoices):
    UPLOAD = "upload", "Upload"
    IMPORT = "import", "Import"
    REEMBED = "reembed", "Re-embed"


class ImportJobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    PARTLY_FAILED = "partly_failed", "Partly failed"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


UNFINISHED_JOB_STATUSES = [ImportJobStatus.QUEUED, ImportJobStatus.RUNNING]


class ImportJobQuerySet(models.QuerySet):
    def unfinished(self) -> "ImportJobQuerySet":
        return self.filter(status__in=UNFINISHED_JOB_STATUSES)

    def recent(self) -> "ImportJobQuerySet":
        return self.order_by("-queued_at", "-id")


class ImportJob(models.Model):
    """A change to the knowledge base run by a worker (an upload, an import, a re-embedding), and its outcome.

    Uploads and imports have one ImportFile per file and count their progress from those rows.
    A re-embedding has none: ``replaced`` counts documents whose vectors changed, ``unchanged``
    those already current, ``failed`` those it could not finish, ``chunks_written`` the vectors
    rewritten and ``errors`` why it stopped; only its one task writes them.
    """

    collection = models.CharField(max_length=100)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=20, choices=ImportJobKind.choices)
    status = models.CharField(max_length=20, choices=ImportJobStatus.choices, default=ImportJobStatus.QUEUED)
    replaced = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    chunks_written = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True, help_text="[collection, reason] when a re-embedding stopped.")
    queued_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True, help_text="When a worker first took it.")
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = ImportJobQuerySet.as_manager()

    class Meta:
        ordering = ["-queued_at", "-id"]
        indexes = [
            # The job list in the admin and a collection's recent jobs: ORDER BY queued_at DESC.
            models.Index(fields=["collection", "-queued_at"], name="importjob_collection_recent"),
            models.Index(fields=["-queued_at"], name="importjob_recent"),
        ]
        constraints = [
            # A job is finished exactly when it is neither queued nor running.
            models.CheckConstraint(
                condition=models.Q(status__in=UNFINISHED_JOB_STATUSES, finished_at__isnull=True)
                | (~models.Q(status__in=UNFINISHED_JOB_STATUSES) & models.Q(finished_at__isnull=False)),
                name="importjob_finished_unless_unfinished",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} into {self.collection} ({self.get_status_display()})"

    @property
    def is_finished(self) -> bool:
        return self.status not in UNFINISHED_JOB_STATUSES


class ImportFileStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    ADDED = "added", "Added"
    REPLACED = "replaced", "Replaced"
    UNCHANGED = "unchanged", "Unchanged"
    EMPTY = "empty", "Empty"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


# A file in one of these states has been dealt with; "done" in the progress counts.
FILE_DONE_STATUSES = [
    ImportFileStatus.ADDED,
    ImportFileStatus.REPLACED,
    ImportFileStatus.UNCHANGED,
    ImportFileStatus.EMPTY,
    ImportFileStatus.FAILED,
]


class ImportFile(models.Model):
    """One file of an upload or import job: where its bytes wait in storage, and what became of it.

    A worker imports it in one transaction holding this row's lock, and sets its status in that
    same transaction: a file is ``pending`` until its document is fully written, never half.
    """

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="files")
    path = models.CharField(max_length=500, help_text="The document's path within its collection.")
    upload = models.CharField(
        max_length=600, blank=True, help_text="Its bytes' name in the default storage; emptied once imported."
    )
    size = models.PositiveBigIntegerField(default=0, help_text="Bytes.")
    status = models.CharField(max_length=20, choices=ImportFileStatus.choices, default=ImportFileStatus.PENDING)
    reason = models.TextField(blank=True, help_text="Why it failed, in words.")
    document = models.ForeignKey(Document, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    passages = models.PositiveIntegerField(default=0, help_text="Passages written for it.")
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["job", "id"]
        constraints = [
            models.UniqueConstraint(fields=["job", "path"], name="importfile_unique_path"),
        ]
        indexes = [
            # A worker's next file: WHERE job_id = %s AND status = 'pending' ORDER BY id FOR UPDATE SKIP LOCKED.
            models.Index(fields=["job", "status"], name="importfile_job_status"),
        ]

    def __str__(self) -> str:
        return f"{self.path} ({self.get_status_display()})"
