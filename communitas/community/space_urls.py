"""A participant's community space (under /c/<token>/), one module per area."""

from communitas.community import (
    space_urls_circles,
    space_urls_partners,
    space_urls_pods,
    space_urls_records,
    space_urls_reflections,
)

app_name = "space"
urlpatterns = [
    *space_urls_reflections.urlpatterns,
    *space_urls_pods.urlpatterns,
    *space_urls_circles.urlpatterns,
    *space_urls_partners.urlpatterns,
    *space_urls_records.urlpatterns,
]
