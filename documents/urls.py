from django.urls import include, path

from documents import views

app_name = "documents"

document_urls = [
    path("", views.document_detail, name="document"),
    path("delete/", views.document_delete, name="document_delete"),
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
    path("documents/<int:document_id>/", include(document_urls)),
    path("jobs/", views.collection_jobs, name="jobs"),
    path("jobs/<int:job_id>/", include(job_urls)),
]

urlpatterns = [
    path("", views.collection_list, name="list"),
    path("<slug:name>/", include(collection_urls)),
]
