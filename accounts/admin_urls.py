"""The admin's log-in page, ahead of the admin's own (ragchat/urls.py): it follows LOCAL_LOGIN_ENABLED."""

from django.urls import path

from accounts import views

urlpatterns = [path("", views.admin_login, name="admin_login")]
