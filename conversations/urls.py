from django.urls import path

from conversations import views

app_name = "conversations"

urlpatterns = [
    path("", views.conversation_list, name="list"),
    path("conversations/new/", views.conversation_create, name="create"),
    path("conversations/<int:conversation_id>/", views.conversation_detail, name="detail"),
    path("conversations/<int:conversation_id>/ask/", views.message_create, name="ask"),
    path(
        "conversations/<int:conversation_id>/messages/<int:message_id>/sources/<int:number>/",
        views.source_detail,
        name="source",
    ),
]
