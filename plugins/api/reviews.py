"""Reviews: the customer's signed link (no sign-in), the business's list and replies, and
customers' e-mail preferences."""

from __future__ import annotations

from typing import Any

from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from access.permissions import IsInScopeOfThisHost, any_capability_permission
from core.api.openapi import error_response
from core.api.viewsets import PublicIdLookupMixin
from core.exceptions import NotFound
from customers.models import Customer
from customers.permissions import customer_get_for
from plugin_data.models import CustomerPreference, Review
from plugins.api.permissions import REVIEW_PERMISSIONS
from plugins.api.serializers import (
    CustomerPreferenceSerializer,
    ReplySerializer,
    ReviewLinkSerializer,
    ReviewSerializer,
    ReviewSubmitSerializer,
)
from plugins.data.selectors import review_appointment
from plugins.data.services import customer_preference_set, review_reply, review_submit
from tenancy.http import request_tenant
from users.http import request_user
from users.roles import Capability

INVALID_LINK = "A forged, foreign or expired link, or reviews switched off here (`invalid_link`)."


class ReviewFilter(filters.FilterSet):
    service = filters.UUIDFilter(field_name="service__public_id")
    rating = filters.NumberFilter()

    class Meta:
        model = Review
        fields = ["service", "rating"]


@extend_schema_view(list=extend_schema(tags=["reviews"]), retrieve=extend_schema(tags=["reviews"]))
class ReviewViewSet(
    PublicIdLookupMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Customers' reviews of completed appointments (the review-requests plugin)."""

    queryset = Review.objects.none()  # for the schema generator
    serializer_class = ReviewSerializer
    permission_classes = REVIEW_PERMISSIONS
    filterset_class = ReviewFilter

    def get_queryset(self) -> Any:
        return Review.objects.select_related("appointment", "service", "customer").order_by(
            "-created_at", "-id"
        )

    def get_object(self) -> Review:
        review = self.get_queryset().filter(public_id=self.kwargs["id"]).first()
        if review is None:
            raise NotFound("No such review.")
        return review

    @extend_schema(
        tags=["reviews"], request=ReplySerializer, responses=ReviewSerializer,
        examples=[OpenApiExample("Thank the customer",
                                 value={"reply": "Thank you, see you next time!"},
                                 request_only=True)],
    )  # fmt: skip
    @action(detail=True, methods=["post"])
    def reply(self, request: Request, id: str) -> Response:
        data = ReplySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        review = review_reply(
            review=self.get_object(), actor=request_user(request), request=request,
            reply=data.validated_data["reply"],
        )  # fmt: skip
        return Response(ReviewSerializer(self.get_queryset().get(pk=review.pk)).data)


class ReviewLinkView(APIView):
    """The page behind the link in a review request: no sign-in, the signed link is the key."""

    authentication_classes: list = []
    permission_classes: list = []

    @extend_schema(
        tags=["reviews"],
        responses={200: ReviewLinkSerializer, 404: error_response(INVALID_LINK)},
    )
    def get(self, request: Request, token: str) -> Response:
        tenant = request_tenant(request)
        appointment = review_appointment(tenant=tenant, token=token)
        return Response(
            ReviewLinkSerializer({
                "business": tenant.name,
                "service": appointment.service.name,
                "starts_at": appointment.starts_at,
                "already_reviewed": Review.objects.filter(appointment=appointment).exists(),
            }).data
        )  # fmt: skip

    @extend_schema(
        tags=["reviews"],
        request=ReviewSubmitSerializer,
        responses={
            201: ReviewSerializer,
            404: error_response(INVALID_LINK),
            409: error_response(
                "Already reviewed: the link works once (`review_already_submitted`)."
            ),
        },
        examples=[OpenApiExample("Four stars", value={"rating": 4, "comment": "Lovely cut."},
                                 request_only=True)],
    )  # fmt: skip
    def post(self, request: Request, token: str) -> Response:
        data = ReviewSubmitSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        review = review_submit(
            tenant=request_tenant(request), token=token, request=request, **data.validated_data
        )
        return Response(ReviewSerializer(review).data, status=201)


class CustomerPreferenceView(APIView):
    """How a customer hears from the business: the timezone of its e-mails, unsubscribed or not."""

    permission_classes = [IsInScopeOfThisHost]

    def get_permissions(self) -> list:
        # A customer reads and sets its own (customer_get_for limits it to its own record).
        needed = (
            (Capability.VIEW_CUSTOMERS, Capability.BOOK_OWN)
            if self.request.method == "GET"
            else (Capability.MANAGE_CUSTOMERS, Capability.BOOK_OWN)
        )
        return [IsInScopeOfThisHost(), any_capability_permission(*needed)()]

    def _customer(self, request: Request, id: str) -> Customer:
        return customer_get_for(
            Customer.objects.all(),
            user=request_user(request),
            tenant=request_tenant(request),
            public_id=id,
        )

    @extend_schema(tags=["customers"], responses=CustomerPreferenceSerializer)
    def get(self, request: Request, id: str) -> Response:
        customer = self._customer(request, id)
        preference = CustomerPreference.objects.filter(customer=customer).first()
        return Response(
            CustomerPreferenceSerializer(preference or CustomerPreference(customer=customer)).data
        )

    @extend_schema(
        tags=["customers"], request=CustomerPreferenceSerializer,
        responses=CustomerPreferenceSerializer,
        examples=[OpenApiExample("Lives in Berlin", value={"timezone": "Europe/Berlin"},
                                 request_only=True)],
    )  # fmt: skip
    def put(self, request: Request, id: str) -> Response:
        customer = self._customer(request, id)
        data = CustomerPreferenceSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        preference = customer_preference_set(
            customer=customer, actor=request_user(request), request=request,
            timezone_name=data.validated_data["timezone"],
        )  # fmt: skip
        return Response(CustomerPreferenceSerializer(preference).data)
