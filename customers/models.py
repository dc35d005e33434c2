"""The business's customers. Spend and last visit are derived (customers.selectors)."""

from django.db import models
from django.db.models import Q

from core.models import PublicRecord
from users.fields import tenant_user_link


class CustomerStatus(models.TextChoices):
    ACTIVE = "ACTIVE"
    INACTIVE = "INACTIVE"
    BLOCKED = "BLOCKED"


class Customer(PublicRecord):
    Status = CustomerStatus

    name = models.CharField(max_length=150)
    email = models.EmailField(max_length=254, blank=True, default="")
    phone = models.CharField(max_length=40, blank=True, default="")
    address = models.TextField(blank=True, default="")
    status = models.CharField(
        max_length=16, choices=CustomerStatus.choices, default=CustomerStatus.ACTIVE
    )
    tags = models.JSONField(default=list, blank=True)
    notes = models.TextField(blank=True, default="")
    # The CUSTOMER account that is this customer; looked up through customer_one_per_user.
    user = tenant_user_link(db_index=False)
    # Set once, when the customer's personal data is erased (GDPR): the record stays, anonymous,
    # for the appointments and charges that point at it (customers.services.customer_erase).
    erased_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in CustomerStatus]),
                name="customer_status_valid",
            ),
            models.UniqueConstraint(
                fields=["user"], condition=Q(user__isnull=False), name="customer_one_per_user"
            ),
        ]

    def __str__(self) -> str:
        return self.name
