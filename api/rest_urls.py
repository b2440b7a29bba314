from django.urls import re_path

from api.rest import api, not_found

# The API's own URLs (ninja's, in the namespace it reverses its docs page with), then a problem for any other.
urlpatterns, _, app_name = api.urls
urlpatterns = [*urlpatterns, re_path(r"", not_found, name="not_found")]
