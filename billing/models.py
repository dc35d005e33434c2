"""Money owed: a charge per completed appointment and per late cancellation."""

from django.db import models
from django.db.models import Q

from core.models import PublicRecord


class ChargeKind(models.TextChoices):
    APPOINTMENT = "APPOINTMENT"
    LATE_CANCELLATION = "LATE_CANCELLATION"


class PaymentStatus(models.TextChoices):
    PENDING = "PENDING"
    PAID = "PAID"
    REFUNDED = "REFUNDED"
    VOID = "VOID"


class Charge(PublicRecord):
    Kind = ChargeKind
    Status = PaymentStatus

    # No index of its own: charge_one_per_kind (appointment, kind) serves lookups by appointment.
    appointment = models.ForeignKey(
        "appointments.Appointment", on_delete=models.PROTECT, related_name="charges", db_index=False
    )
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="charges"
    )
    kind = models.CharField(max_length=24, choices=ChargeKind.choices)
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    status = models.CharField(
        max_length=16, choices=PaymentStatus.choices, default=PaymentStatus.PENDING
    )
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="charge_amount_non_negative"),
            models.CheckConstraint(
                condition=Q(kind__in=[k.value for k in ChargeKind]), name="charge_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in PaymentStatus]),
                name="charge_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(status=PaymentStatus.PAID, paid_at__isnull=False)
                | ~Q(status=PaymentStatus.PAID),
                name="charge_paid_has_time",
            ),
            models.UniqueConstraint(fields=["appointment", "kind"], name="charge_one_per_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount} ({self.status})"
