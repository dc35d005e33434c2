from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView
from rest_framework.request import Request
from rest_framework.response import Response


class HostSchemaView(SpectacularAPIView):
    """The OpenAPI document of the host asked: the platform API on the platform host, the
    business API on a tenant host."""

    permission_classes: list = []

    @extend_schema(exclude=True)
    def get(self, request: Request, *args, **kwargs) -> Response:
        self.urlconf = getattr(request, "urlconf", None)
        return super().get(request, *args, **kwargs)
