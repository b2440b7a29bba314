"""The REST API (django-ninja): its OpenAPI document at /api/openapi.json, its docs page at /api/docs.

Swagger UI's files are served from this site (ninja's static files, "ninja" in INSTALLED_APPS), not
from a CDN: the site's Content-Security-Policy allows scripts from itself only, and the server may
have no internet. ninja's page runs no inline script (its settings travel as a JSON data block).
"""

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI, Swagger

from api import conversations, knowledge, problems, questions
from api.auth import AUTH

DESCRIPTION = (
    "ragchat for programs: your conversations, questions answered with numbered sources, the collections you "
    "can read, uploads and their jobs. Authenticate with a personal API token (your account's API tokens "
    "page) as `Authorization: Bearer <token>`; a token acts as you, with your permissions and limits. "
    "Errors are problem details (RFC 9457, `application/problem+json`)."
)


class RagchatApi(NinjaAPI):
    def get_openapi_schema(self, *args, **kwargs) -> dict:
        """ninja's document, with error responses under the media type they are sent as, and the
        media types an operation's ``openapi_extra`` adds to a status joined to ninja's own."""
        schema = super().get_openapi_schema(*args, **kwargs)
        for operations in schema["paths"].values():
            for operation in operations.values():
                operation["responses"] = _joined(operation.get("responses", {}))
                if "requestBody" in operation:  # a body may be unreadable, or too large to read
                    operation["responses"].update(
                        {"400": _problem("Bad Request"), "413": _problem("Content Too Large")}
                    )
                for status, response in operation["responses"].items():
                    if int(status) >= 400 and "application/json" in response.get("content", {}):
                        response["content"] = {problems.MEDIA_TYPE: response["content"].pop("application/json")}
        return schema


def _problem(description: str) -> dict:
    return {
        "description": description,
        "content": {problems.MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


def _joined(responses: dict) -> dict:
    """Responses keyed by status as a string; two entries of one status (ninja's int key, the extra's
    string key) become one, with both media types and the extra's description."""
    joined: dict[str, dict] = {}
    for status, response in responses.items():
        if str(status) in joined:
            earlier = joined[str(status)]
            response = {**earlier, **response, "content": {**earlier.get("content", {}), **response.get("content", {})}}
        joined[str(status)] = response
    return joined


api = RagchatApi(
    title="ragchat API",
    version="1",
    description=DESCRIPTION,
    auth=AUTH,
    urls_namespace="api",
    # The validator badge would fetch from validator.swagger.io: nothing leaves the site.
    docs=Swagger(settings={"validatorUrl": None, "persistAuthorization": False}),
)
problems.install(api)
api.add_router("", conversations.router)
api.add_router("", questions.router)
api.add_router("", knowledge.router)


@csrf_exempt  # it changes nothing: a POST to a wrong URL is told so, not refused for its CSRF token
def not_found(request: HttpRequest) -> HttpResponse:
    """Any other URL under /api/: a problem too, not the site's HTML page."""
    return problems.problem(404, "There is no such API URL. The API's operations are listed at /api/docs.")
