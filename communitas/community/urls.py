"""Staff pages of the community app (under /community/), one module per area."""

from communitas.community import urls_circles, urls_formation, urls_partners, urls_pods, urls_reflections

app_name = "community"
urlpatterns = [
    *urls_circles.urlpatterns,
    *urls_formation.urlpatterns,
    *urls_partners.urlpatterns,
    *urls_pods.urlpatterns,
    *urls_reflections.urlpatterns,
]
