"""Ingestion settings: what uploads and imports may hold, and the background job worker (README,
"Uploads" and "Background jobs"). Read from the environment like the rest, in a file of their own
so that settings.py stays under the 400 lines every module keeps to; settings.py imports them.
"""

import environ

env = environ.Env()

# Largest file an upload accepts (knowledge pages and admin); bigger collections belong to
# `manage.py import_documents`. Django reads the whole request before the form checks it, so also cap
# the body in the web server (README, Deploy).
MAX_UPLOAD_BYTES = env.int("MAX_UPLOAD_BYTES", default=20 * 1024 * 1024)
# Largest file an import reads (import_documents and uploads); bigger ones are reported by name and
# skipped before being read, so a stray disk image or database dump cannot exhaust the memory.
MAX_IMPORT_FILE_BYTES = env.int("MAX_IMPORT_FILE_BYTES", default=50 * 1024 * 1024)
# Office files and e-books are zip archives; one is refused before it is inflated when it states more
# than these (documents/extract/archives.py): inflated bytes, parts, and inflated-to-stored ratio.
OFFICE_MAX_UNCOMPRESSED_BYTES = env.int("OFFICE_MAX_UNCOMPRESSED_BYTES", default=256 * 1024 * 1024)
OFFICE_MAX_MEMBERS = env.int("OFFICE_MAX_MEMBERS", default=10_000)
OFFICE_MAX_RATIO = env.int("OFFICE_MAX_RATIO", default=100)
# Cells a spreadsheet (.xlsx, .csv) may hold, all sheets together; a bigger one is refused by name.
SPREADSHEET_MAX_CELLS = env.int("SPREADSHEET_MAX_CELLS", default=200_000)
# What people may send from the knowledge pages (documents/uploads.py). MAX_UPLOAD_BYTES above is
# the limit per file; these limit one upload as a whole and a user's stored originals.
MAX_UPLOAD_TOTAL_BYTES = env.int("MAX_UPLOAD_TOTAL_BYTES", default=100 * 1024 * 1024)
# A .zip is expanded before anything is stored: at most this many files, this many bytes inflated.
UPLOAD_ZIP_MAX_FILES = env.int("UPLOAD_ZIP_MAX_FILES", default=1000)
UPLOAD_ZIP_MAX_BYTES = env.int("UPLOAD_ZIP_MAX_BYTES", default=200 * 1024 * 1024)
# Bytes each user may keep: originals of the documents they uploaded plus files waiting in their
# jobs. 0: no quota.
USER_STORAGE_QUOTA_BYTES = env.int("USER_STORAGE_QUOTA_BYTES", default=500 * 1024 * 1024)
# Uploads bigger than this are spooled to a temporary file rather than held in memory (Django's
# own setting, named here because uploads of many files make it matter).
FILE_UPLOAD_MAX_MEMORY_SIZE = env.int("FILE_UPLOAD_MAX_MEMORY_SIZE", default=2621440)
FILE_UPLOAD_TEMP_DIR = env("FILE_UPLOAD_TEMP_DIR", default=None)  # None: the system's temporary folder
# --- Background jobs: procrastinate's queue in this PostgreSQL, run by `manage.py procrastinate worker`.
# Seconds without a heartbeat after which a worker counts as dead (kill -9, a lost machine) and the
# jobs it held are run again by another; a live worker beats four times in that span.
JOB_STALLED_AFTER = env.int("JOB_STALLED_AFTER", default=60)
# Tasks of one upload or import that may run at once, each on a free worker: they share its files,
# each file taken by exactly one of them (a row lock). 1 keeps a job on one worker at a time.
JOB_TASKS_PER_IMPORT = env.int("JOB_TASKS_PER_IMPORT", default=2)
# Small files of one job are imported together, in one transaction, up to this many bytes, so their
# passages share the model's batches (one call per tiny file was 1.3 to 1.6 times slower); 0 imports
# each file in a transaction of its own. A worker killed mid-batch loses the batch, never half of it.
JOB_BATCH_BYTES = env.int("JOB_BATCH_BYTES", default=128 * 1024)
PROCRASTINATE_WORKER_DEFAULTS = {
    # The embedding model is CPU-bound: one job at a time per worker uses the cores it has; run more
    # workers (`make worker`, on this machine or others) for more at once.
    "concurrency": env.int("WORKER_CONCURRENCY", default=1),
    "update_heartbeat_interval": max(0.5, JOB_STALLED_AFTER / 4),
    "stalled_worker_timeout": JOB_STALLED_AFTER,
    # ImportJob rows are the record of what ran: the queue's own row of a task that succeeded is
    # deleted, so its table does not grow forever; failed ones stay, for the admin's Procrastinate page.
    "delete_jobs": "successful",
}
# procrastinate's admin pages list its raw jobs, read-only; ragchat's own are under Import jobs.
PROCRASTINATE_READONLY_MODELS = True
