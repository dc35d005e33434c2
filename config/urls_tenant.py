"""A tenant's host: the business's API. Each app adds its routes here."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from apikeys.api import APIKeyViewSet
from appointments.api.appointments import AppointmentViewSet
from appointments.api.availability import AvailabilityView
from appointments.api.blockers import BlockerViewSet
from appointments.api.closures.views import ClosureViewSet
from appointments.api.public import (
    GuestBookingView,
    ManageCancelView,
    ManageRescheduleView,
    ManageView,
    PublicAvailabilityView,
    PublicHoldView,
    PublicServiceListView,
)
from appointments.api.series import AppointmentSeriesViewSet
from appointments.api.waitlist import WaitlistClaimView, WaitlistViewSet
from billing.api.views import BillingSettingsView, ChargeViewSet, RevenueSummaryView
from catalog.api.views import ServiceViewSet
from config.urls_common import fallback
from config.urls_common import urlpatterns as common
from console.api.domains import DomainDetailView, DomainListView, DomainVerifyView
from console.api.subscription import SubscriptionView
from console.api.tenant import TenantLogoView, TenantSettingsView
from console.api.users import TenantUserListView
from customers.api.views import CustomerViewSet
from plugins.api.calendar import CalendarFeedView
from plugins.api.marketplace import (
    CatalogueViewSet,
    InstalledPluginViewSet,
    PluginInstallView,
    PluginRatingView,
)
from plugins.api.notifications import (
    DeliveryViewSet,
    EmailTemplateListView,
    EmailTemplateView,
    UnsubscribeView,
)
from plugins.api.reviews import CustomerPreferenceView, ReviewLinkView, ReviewViewSet
from plugins.api.webhooks import WebhookEndpointViewSet
from resources.api.views import DateOverrideViewSet, ResourceViewSet

router = SimpleRouter()
router.register("api/resources", ResourceViewSet, basename="resource")
router.register("api/date-overrides", DateOverrideViewSet, basename="date-override")
router.register("api/services", ServiceViewSet, basename="service")
router.register("api/customers", CustomerViewSet, basename="customer")
router.register("api/appointments", AppointmentViewSet, basename="appointment")
router.register("api/blockers", BlockerViewSet, basename="blocker")
router.register("api/appointment-series", AppointmentSeriesViewSet, basename="appointment-series")
router.register("api/waitlist", WaitlistViewSet, basename="waitlist-entry")
router.register("api/closures", ClosureViewSet, basename="closure")
router.register("api/charges", ChargeViewSet, basename="charge")
router.register("api/plugins", CatalogueViewSet, basename="plugin")
router.register("api/installed-plugins", InstalledPluginViewSet, basename="installed-plugin")
router.register("api/webhooks/endpoints", WebhookEndpointViewSet, basename="webhook-endpoint")
router.register("api/deliveries", DeliveryViewSet, basename="delivery")
router.register("api/reviews", ReviewViewSet, basename="review")
router.register("api/keys", APIKeyViewSet, basename="api-key")

urlpatterns = [
    *common,
    path("api/users/", TenantUserListView.as_view(), name="tenant-users"),
    path("api/tenant/logo/", TenantLogoView.as_view(), name="tenant-logo"),
    path("api/tenant/settings/", TenantSettingsView.as_view(), name="tenant-settings"),
    path("api/domains/", DomainListView.as_view(), name="tenant-domains"),
    path("api/domains/<str:domain>/", DomainDetailView.as_view(), name="tenant-domain"),
    path(
        "api/domains/<str:domain>/verify/",
        DomainVerifyView.as_view(),
        name="tenant-domain-verify",
    ),
    path("api/subscription/", SubscriptionView.as_view(), name="tenant-subscription"),
    path("api/availability/", AvailabilityView.as_view(), name="availability"),
    path("api/waitlist/claim/<str:token>/", WaitlistClaimView.as_view(), name="waitlist-claim"),
    path("api/billing/summary/", RevenueSummaryView.as_view(), name="billing-summary"),
    path("api/billing/settings/", BillingSettingsView.as_view(), name="billing-settings"),
    path("api/calendar/<str:token>.ics", CalendarFeedView.as_view(), name="calendar-feed"),
    path("api/plugins/<slug:slug>/install/", PluginInstallView.as_view(), name="plugin-install"),
    path("api/plugins/<slug:slug>/rating/", PluginRatingView.as_view(), name="plugin-rating"),
    path("api/email-templates/", EmailTemplateListView.as_view(), name="email-templates"),
    path("api/email-templates/<str:kind>/", EmailTemplateView.as_view(), name="email-template"),
    path("api/unsubscribe/<str:token>/", UnsubscribeView.as_view(), name="unsubscribe"),
    path("api/reviews/submit/<str:token>/", ReviewLinkView.as_view(), name="review-submit"),
    path(
        "api/customers/<uuid:id>/preference/",
        CustomerPreferenceView.as_view(),
        name="customer-preference",
    ),
    # The public booking page (no account; appointments.api.public).
    path("api/public/services/", PublicServiceListView.as_view(), name="public-services"),
    path("api/public/availability/", PublicAvailabilityView.as_view(), name="public-availability"),
    path("api/public/holds/", PublicHoldView.as_view(), name="public-holds"),
    path("api/public/bookings/", GuestBookingView.as_view(), name="public-bookings"),
    path("api/public/manage/", ManageView.as_view(), name="public-manage"),
    path("api/public/manage/cancel/", ManageCancelView.as_view(), name="public-manage-cancel"),
    path(
        "api/public/manage/reschedule/",
        ManageRescheduleView.as_view(),
        name="public-manage-reschedule",
    ),
    *router.urls,
    *fallback,
]

handler400 = "core.api.errors.handler400"
handler403 = "core.api.errors.handler403"
handler404 = "core.api.errors.handler404"
handler500 = "core.api.errors.handler500"
