from django.urls import include, path

from documents import views

app_name = "documents"

document_urls = [
    path("", views.document_detail, name="document"),
    path("delete/", views.document_delete, name="document_delete"),
    path("original/", views.document_original, name="document_original"),
]

job_urls = [
    path("cancel/", views.job_cancel, name="job_cancel"),
    path("retry/", views.job_retry, name="job_retry"),
]

collection_urls = [
    path("", views.collection_detail, name="collection"),
    path("manage/", views.collection_manage, name="manage"),
    path("rename/", views.collection_rename, name="rename"),
    path("share/", views.collection_share, name="share"),
    path("unshare/", views.collection_unshare, name="unshare"),
    path("delete/", views.collection_delete, name="delete"),
    path("upload/", views.collection_upload, name="upload"),
    path("documents/<int:document_id>/", include(document_urls)),
    path("jobs/", views.collection_jobs, name="jobs"),
    path("jobs/<int:job_id>/", include(job_urls)),
]

urlpatterns = [
    path("", views.collection_list, name="list"),
    # "My documents" is made by its first upload, so it has no name to upload to yet. The "~" is
    # in no collection name (a slug), so this path can never hide a collection's own.
    path("~my-documents/upload/", views.personal_upload, name="personal_upload"),
    path("<slug:name>/", include(collection_urls)),
]
