"""The JSON API at /api/v1/ (OpenAPI at /api/v1/openapi.json)."""

from ninja import NinjaAPI

from communitas.accounts.api_auth import BearerTokenAuth, VerifiedSessionAuth
from communitas.community.api_circles import router as community_circles_router
from communitas.community.api_formation import router as community_formation_router
from communitas.community.api_partners import router as community_partners_router
from communitas.community.api_pods import router as community_pods_router
from communitas.community.api_reflections import router as community_reflections_router
from communitas.compliance.api import router as compliance_router
from communitas.core.api import install_error_handlers
from communitas.facilitators.api import router as facilitators_router
from communitas.interop.api import router as fhir_router
from communitas.interop.sharing_api import router as sharing_router
from communitas.outcomes.api import router as outcomes_router
from communitas.participants.api import router as participants_router
from communitas.programs.api import router as programs_router
from communitas.safety.api import router as safety_router

api = NinjaAPI(
    title="Communitas API",
    version="1",
    description="Organization-scoped API. Authenticate with 'Authorization: Bearer <token>'; "
    'create tokens under API tokens in the web app. Errors are {"error", "detail"}.',
    auth=[BearerTokenAuth(), VerifiedSessionAuth()],
    urls_namespace="api",
    docs_url=None,
)
install_error_handlers(api)
api.add_router("", participants_router)
api.add_router("", outcomes_router)
api.add_router("", safety_router)
api.add_router("", facilitators_router)
api.add_router("", programs_router)
api.add_router("", compliance_router)
api.add_router("", community_circles_router)
api.add_router("", community_formation_router)
api.add_router("", community_pods_router)
api.add_router("", community_partners_router)
api.add_router("", community_reflections_router)
api.add_router("/fhir", fhir_router)
api.add_router("", sharing_router)
