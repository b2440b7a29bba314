import functools

from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, re_path

from api.problems import problem
from api.rest import api, not_found


def _problem_for_wrong_method(view):
    """ninja answers a method no operation of the path takes with a bare 405: make it a problem too."""

    @functools.wraps(view)  # keeps csrf_exempt: ninja checks CSRF itself, for session callers
    def checked(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = view(request, *args, **kwargs)
        if response.status_code != 405:
            return response
        allowed = response["Allow"]
        return problem(
            405, f"{request.method} is not an operation of this URL; it takes {allowed}.", headers={"Allow": allowed}
        )

    return checked


# The API's own URLs (ninja's, in the namespace it reverses its docs page with), then a problem for any other.
patterns, _, app_name = api.urls
urlpatterns = [
    URLPattern(p.pattern, _problem_for_wrong_method(p.callback), p.default_args, p.name) for p in patterns
] + [re_path(r"", not_found, name="not_found")]
