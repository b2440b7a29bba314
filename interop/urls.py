from django.urls import path

from interop import views

app_name = "interop"
# Under /v1/ (ragchat/urls.py), the paths OpenAI's clients call.
urlpatterns = [
    path("chat/completions", views.chat_completions, name="chat_completions"),
    path("models", views.models_list, name="models"),
]
