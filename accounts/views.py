from django.conf import settings
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import UserCreationForm
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from accounts.throttle import LoginForm


class LoginView(auth_views.LoginView):
    """Django's login, throttled: too many failures answer 429 with a message saying so."""

    form_class = LoginForm
    redirect_authenticated_user = True

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if form.has_error("__all__", code="throttled"):
            response.status_code = 429
        return response


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    """Self-service accounts, only when ALLOW_SIGNUP is on."""
    if not settings.ALLOW_SIGNUP:
        raise Http404("Sign-up is switched off on this site.")
    form = UserCreationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        login(request, form.save(), backend="django.contrib.auth.backends.ModelBackend")
        return redirect(settings.LOGIN_REDIRECT_URL)
    return render(request, "registration/signup.html", {"form": form})


def signup_enabled(request: HttpRequest) -> dict:
    """Template context: whether to offer the sign-up link."""
    return {"signup_enabled": settings.ALLOW_SIGNUP}
