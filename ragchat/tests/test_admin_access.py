"""Only staff reach the admin and the staff pages under /admin/, and every one of them answers staff.

The URLs come from the same walk as test_access.py, so a staff page added later is tested too.
"""

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.apps import apps
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.utils import timezone
from procrastinate.contrib.django.models import ProcrastinateJob

from api.models import ApiToken
from api.tokens import token_create
from conftest import make_user
from conversations.models import ChatModelConfig, ChatType, Conversation, Message, PromptVersion
from documents import tasks
from documents.models import (
    Chunk,
    Collection,
    Document,
    ImportFile,
    ImportFileStatus,
    ImportJob,
    ImportJobKind,
    ImportJobStatus,
)
from ragchat.tests.access import ADMIN_ROOT, ADMIN_URLS, UrlPattern, by_id, get_and_post, redirects_to

pytestmark = pytest.mark.usefixtures("cheap_rows")


# --- The admin ------------------------------------------------------------------------------------


def registered_models() -> list:
    return [model for model in apps.get_models() if admin.site.is_registered(model)]


def admin_model_of(pattern: UrlPattern):
    """The model whose ModelAdmin serves the URL (admin/<app>/<model>/...); None for the site's own views."""
    for model in registered_models():
        if pattern.route.startswith(f"{ADMIN_ROOT}{model._meta.app_label}/{model._meta.model_name}/"):
            return model
    return None


@pytest.fixture
def admin_rows(bobs_message, bob) -> dict:
    """A real row of every model registered in the admin, for the object ids in its URLs."""
    chunk = Chunk.objects.select_related("document").first()
    config = ChatModelConfig.objects.create(name="Local test model", model="openai:gpt-test")
    job = ImportJob.objects.create(
        collection="default",
        kind=ImportJobKind.UPLOAD,
        status=ImportJobStatus.SUCCEEDED,
        finished_at=timezone.now(),
    )
    ImportFile.objects.create(job=job, path="kettle.txt", status=ImportFileStatus.ADDED)
    return {
        Conversation: bobs_message.conversation,
        Message: bobs_message,
        Document: chunk.document,
        Chunk: chunk,
        ImportJob: job,
        # procrastinate's own record of a queued task (its admin, read-only).
        ProcrastinateJob: ProcrastinateJob.objects.get(pk=tasks.import_files.defer(job_id=job.pk)),
        PromptVersion: PromptVersion.objects.create(
            chat_type=ChatType.ANSWER, system_prompt="Answer briefly.", model_config=config
        ),
        ChatModelConfig: config,
        get_user_model(): bob,
        Group: Group.objects.create(name="Moderators"),
        Collection: Collection.objects.get(name="default"),
        # django-axes' records of log-ins (failures, lockouts), which staff read and may delete.
        AccessAttempt: AccessAttempt.objects.create(username="bob", ip_address="203.0.113.5", failures_since_start=1),
        AccessLog: AccessLog.objects.create(username="bob", ip_address="203.0.113.5"),
        AccessFailureLog: AccessFailureLog.objects.create(username="bob", ip_address="203.0.113.5"),
        ApiToken: token_create(user=bob, name="scripts")[0],
    }


def admin_url(pattern: UrlPattern, rows: dict) -> str:
    model = admin_model_of(pattern)
    if model is not None:
        if model not in rows:
            pytest.fail(f"{model.__name__} is registered in the admin: add a row of it to admin_rows.")
        # object_id in ModelAdmin URLs; the user admin's password form calls it id.
        return pattern.url({"object_id": rows[model].pk, "id": rows[model].pk})
    # The AdminSite's own views, each filled in deliberately rather than skipped:
    return pattern.url(
        {
            "app_label": "conversations",  # admin:app_list, the index of one app
            # admin:view_on_site, Django's redirect to an object's page on the site.
            "content_type_id": ContentType.objects.get_for_model(Conversation).pk,
            "object_id": rows[Conversation].pk,
            "url": "no-such-page/",  # the unnamed catch-all, which answers unknown admin paths
        }
    )


def admin_rows_snapshot() -> dict:
    """The primary keys of every model in the admin: nothing may be added or deleted."""
    return {model: sorted(model._default_manager.values_list("pk", flat=True)) for model in registered_models()}


def assert_sent_to_admin_login(client: Client, pattern: UrlPattern, rows: dict) -> None:
    url = admin_url(pattern, rows)
    before = admin_rows_snapshot()
    # Django sends a logout by someone who is not staff to the index, which sends on to the login.
    target = "admin:index" if pattern.name == "admin:logout" else "admin:login"
    for method, response in get_and_post(client, url).items():
        assert redirects_to(response, target), f"{method} {url}: {response.status_code}"
    assert admin_rows_snapshot() == before


@by_id(ADMIN_URLS)
def test_the_admin_sends_anonymous_visitors_to_its_login(client, admin_rows, pattern):
    assert_sent_to_admin_login(client, pattern, admin_rows)


@by_id(ADMIN_URLS)
def test_the_admin_sends_users_who_are_not_staff_to_its_login(client, alice, admin_rows, pattern):
    client.force_login(alice)
    assert_sent_to_admin_login(client, pattern, admin_rows)


# What staff get instead of 200, and why that is right. Anything else fails: a new admin URL must
# work for staff or be listed here with its reason, so the walk is known to reach every view.
STAFF_STATUS = {
    "admin:logout": 405,  # POST only, since Django 5.0
    "admin:view_on_site": 404,  # none of the models has get_absolute_url
    "admin/(?P<url>.*)$": 404,  # the unnamed catch-all: there is no such admin page
    "admin:documents_document_add": 302,  # documents are added by uploading files: sent there
    # Records the app makes, which the admin only shows.
    "admin:documents_importjob_add": 403,
    "admin:documents_importjob_delete": 403,
    "admin:documents_importjob_cancel": 405,  # the job page's buttons post
    "admin:documents_importjob_retry": 405,
    "admin:documents_chunk_add": 403,
    # The queue's own rows: procrastinate writes them, its admin only shows them.
    "admin:procrastinate_procrastinatejob_add": 403,
    "admin:procrastinate_procrastinatejob_delete": 403,
    "admin:conversations_message_add": 403,
    "admin:conversations_promptversion_delete": 403,  # messages point at the version that answered them
    # django-axes writes these itself when someone logs in.
    "admin:axes_accessattempt_add": 403,
    "admin:axes_accesslog_add": 403,
    "admin:axes_accessfailurelog_add": 403,
    # A token is shown once, to its owner (account page, api_token): the admin makes none.
    "admin:api_apitoken_add": 403,
}
# Query strings a view needs to answer 200: the autocomplete refuses a request without them.
STAFF_QUERY = {
    "admin:autocomplete": {"app_label": "conversations", "model_name": "conversation", "field_name": "owner"},
}


def expected_staff_status(pattern: UrlPattern) -> int:
    if pattern.id in STAFF_STATUS:
        return STAFF_STATUS[pattern.id]
    if pattern.name is None and admin_model_of(pattern) is not None:
        return 302  # Django's unnamed redirect from <id>/ to <id>/change/
    return 200


@by_id(ADMIN_URLS)
def test_staff_reach_every_admin_view(client, admin_rows, pattern):
    client.force_login(make_user("staff", is_staff=True, is_superuser=True))
    response = client.get(admin_url(pattern, admin_rows), STAFF_QUERY.get(pattern.id, {}))
    assert response.status_code == expected_staff_status(pattern)
    assert not redirects_to(response, "admin:login")
