from django.urls import include, path

from conversations import views

app_name = "conversations"

message_urls = [
    path("regenerate/", views.message_regenerate, name="regenerate"),
    path("feedback/", views.message_feedback, name="feedback"),
    path("passages/<int:number>/", views.passage_detail, name="passage"),
]

conversation_urls = [
    path("", views.conversation_detail, name="detail"),
    path("ask/", views.message_create, name="ask"),
    path("update/", views.conversation_update, name="update"),
    path("delete/", views.conversation_delete, name="delete"),
    path("messages/<int:message_id>/", include(message_urls)),
]

urlpatterns = [
    path("", views.conversation_list, name="list"),
    path("conversations/new/", views.conversation_create, name="create"),
    path("conversations/<int:conversation_id>/", include(conversation_urls)),
]
