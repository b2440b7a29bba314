"""The account page for personal API tokens: make one (shown once), list them, revoke one."""

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from api.forms import TokenForm
from api.models import ApiToken
from api.tokens import token_create, token_revoke


def _page(request: HttpRequest, form: TokenForm, *, new_token: str = "", status: int = 200) -> HttpResponse:
    tokens = ApiToken.objects.for_user(request.user).live()
    context = {"form": form, "tokens": tokens, "new_token": new_token}
    return render(request, "api/tokens.html", context, status=status)


@login_required
@never_cache  # the page that shows a new token must not be kept by any cache
@require_http_methods(["GET", "POST"])
def token_list(request: HttpRequest) -> HttpResponse:
    """GET: the user's tokens. POST: make one, and show it on this response only."""
    if request.method == "GET":
        return _page(request, TokenForm(user=request.user))
    form = TokenForm(request.POST, user=request.user)
    if not form.is_valid():
        return _page(request, form, status=400)
    try:
        _, raw = token_create(user=request.user, name=form.cleaned_data["name"], expires_at=form.expires_at())
    except IntegrityError:  # the same name sent twice at once: the constraint kept one
        form.add_error("name", "You already have a token of that name. Choose another name.")
        return _page(request, form, status=400)
    return _page(request, TokenForm(user=request.user), new_token=raw, status=201)


@login_required
@require_POST
def token_revoke_view(request: HttpRequest, token_id: int) -> HttpResponse:
    token = get_object_or_404(ApiToken.objects.for_user(request.user).live(), pk=token_id)
    token_revoke(token=token)
    flash.success(request, f"Revoked the token “{token.name}”: it no longer works.")
    return redirect("tokens:list")
