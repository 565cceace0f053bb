"""How the API's own pieces appear in the OpenAPI description."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension

PROBLEM_SCHEMA = {
    "type": "object",
    "description": "An error, as RFC 9457 problem details.",
    "properties": {
        "type": {"type": "string", "description": "A URI naming the kind of problem."},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string", "description": "The path of the request."},
        "errors": {
            "type": "object",
            "description": "For an invalid request: the messages for each field.",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
        "retry_after": {"type": "integer", "description": "When throttled: seconds to wait."},
    },
    "required": ["type", "title", "status", "detail", "instance"],
}


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.BearerTokenAuthentication"
    name = "bearerToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal API token, made on your account page or with POST /api/v1/auth/token/.",
        }


class BrowserSessionScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.BrowserSessionAuthentication"
    name = "cookieAuth"

    def get_security_definition(self, auto_schema):
        from django.conf import settings

        return {"type": "apiKey", "in": "cookie", "name": settings.SESSION_COOKIE_NAME}


def add_problem_responses(result, generator, request, public):
    """drf-spectacular postprocessing hook: every operation may answer with a problem-details error."""
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components["Problem"] = PROBLEM_SCHEMA
    reference = {"$ref": "#/components/schemas/Problem"}
    for path in result.get("paths", {}).values():
        for operation in path.values():
            responses = operation.setdefault("responses", {})
            for code, description in (("4XX", "A problem with the request."),):
                responses.setdefault(
                    code, {"description": description, "content": {"application/problem+json": {"schema": reference}}}
                )
            for code, response in list(responses.items()):
                if code.startswith("4") and code != "4XX":
                    responses[code] = {
                        "description": response.get("description", ""),
                        "content": {"application/problem+json": {"schema": reference}},
                    }
    return result
