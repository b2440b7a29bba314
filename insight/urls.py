from django.contrib import admin
from django.urls import path

from insight import views

app_name = "insight"

urlpatterns = [
    # admin_view: staff only, with the admin's login redirect, like every page under /admin/.
    path("", admin.site.admin_view(views.index), name="index"),
]
