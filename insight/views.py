from django.contrib import admin
from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET

from insight.forms import PeriodForm
from insight.selectors import default_period, insight_for_period


@require_GET
@permission_required("conversations.view_insight", raise_exception=True)
def index(request: HttpRequest) -> TemplateResponse:
    """Usage and quality for the chosen period (the last 30 days unless the form says otherwise)."""
    start, end = default_period()
    form = PeriodForm(request.GET or {"start": start, "end": end})
    if form.is_valid():
        start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    context = {
        # The admin's header, sidebar and permissions, as the page is part of the admin.
        **admin.site.each_context(request),
        "title": "Insight",
        "form": form,
        "insight": insight_for_period(start=start, end=end),
    }
    return TemplateResponse(request, "insight/index.html", context)
