"""A tenant's subscription, on its own host: plan, status and how much of each limit is used.
Billing information, so it needs ``view_billing`` (owners; others through a permission grant)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from access.permissions import IsInScopeOfThisHost, capability_permission
from tenancy.http import request_tenant
from tenancy.tiers import tier_limit
from users.models import User
from users.roles import STAFF_ROLES, Capability

Subscription = inline_serializer(
    "Subscription",
    {
        "tenant": serializers.CharField(),
        "subscription_tier": serializers.CharField(),
        "status": serializers.CharField(),
        "staff_users": inline_serializer(
            "StaffUsage",
            {
                "used": serializers.IntegerField(),
                "limit": serializers.IntegerField(allow_null=True),
            },
        ),
        "resources_limit": serializers.IntegerField(allow_null=True),
    },
)


class SubscriptionView(APIView):
    permission_classes = [IsInScopeOfThisHost, capability_permission(Capability.VIEW_BILLING)]

    @extend_schema(responses=Subscription, tags=["billing"])
    def get(self, request: Request) -> Response:
        tenant = request_tenant(request)  # this view is routed on tenant hosts only
        staff = User.objects.filter(tenant=tenant, role__in=STAFF_ROLES).count()
        return Response(
            {
                "tenant": tenant.schema_name,
                "subscription_tier": tenant.subscription_tier,
                "status": tenant.status,
                "staff_users": {
                    "used": staff,
                    "limit": tier_limit(tenant=tenant, kind="staff_users"),
                },
                "resources_limit": tier_limit(tenant=tenant, kind="resources"),
            }
        )
