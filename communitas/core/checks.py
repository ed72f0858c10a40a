"""Deployment checks (``communitas check --deploy`` and every start): settings that are each
valid alone but unsafe together."""

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security, deploy=True)
def proxy_addresses(app_configs, **kwargs):
    """Behind TLS there is a proxy; if it is not counted, rate limits and login lockouts see the
    proxy's address instead of the client's (docs/deploy.md, docs/security.md)."""
    if settings.SECURE and settings.COMMUNITAS_TRUSTED_PROXY_COUNT == 0:
        return [
            checks.Warning(
                "COMMUNITAS_SECURE is on but COMMUNITAS_TRUSTED_PROXY_COUNT is 0.",
                hint="Set COMMUNITAS_TRUSTED_PROXY_COUNT=1 for one reverse proxy in front, or participant-link "
                "rate limits and login lockouts count the proxy's address, not each client's.",
                id="communitas.W001",
            )
        ]
    return []
