"""Writes of customers. Each is one transaction with its audit event."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from rest_framework.request import Request

from core import clock
from core.audit import security_event
from core.exceptions import Conflict, DomainError
from customers.models import Customer
from customers.personal_data import erase_elsewhere
from customers.selectors import customer_personal_data
from customers.signals import customer_created
from tenancy.models import Tenant
from users.models import User
from users.roles import Role


def _check_user(user: User | None, tenant: Tenant) -> None:
    if user is not None and (user.role != Role.CUSTOMER or user.tenant_id != tenant.pk):
        raise DomainError(
            "Only a CUSTOMER account of this business can be linked to a customer.",
            fields={"user": ["Not a customer account of this business."]},
        )


def _linked(save: Callable[[], Customer]) -> Customer:
    """Run ``save`` inside the caller's transaction, which rolls back with the 409 raised here
    when the one-customer-per-account constraint refuses it."""
    try:
        return save()
    except IntegrityError as error:
        raise Conflict(
            "That account is already linked to another customer.",
            fields={"user": ["Already linked."]},
        ) from error


@transaction.atomic
def customer_create(
    *, tenant: Tenant, actor: User | None, user: User | None = None, **fields: Any
) -> Customer:
    _check_user(user, tenant)
    customer = _linked(lambda: Customer.objects.create(user=user, **fields))
    security_event("customer_created", actor=actor, target=user, subject=customer, tenant=tenant)
    customer_created.send(sender=Customer, tenant=tenant, customer=customer)
    return customer


@transaction.atomic
def customer_update(
    *, tenant: Tenant, customer: Customer, actor: User | None, **changes: Any
) -> Customer:
    if "user" in changes:
        _check_user(changes["user"], tenant)
    for field, value in changes.items():
        setattr(customer, field, value)

    def save() -> Customer:
        customer.save()
        return customer

    _linked(save)
    security_event(
        "customer_updated",
        actor=actor,
        target=customer.user,
        subject=customer,
        tenant=tenant,
        fields=sorted(changes),
    )
    return customer


@transaction.atomic
def customer_delete(*, customer: Customer, actor: User | None) -> None:
    if customer.appointments.exists():
        raise Conflict(
            f"'{customer.name}' has appointments; set the status to INACTIVE instead.",
            code="customer_in_use",
        )
    security_event(
        "customer_deleted",
        actor=actor,
        target=customer.user,
        subject=customer,
        customer_name=customer.name,
    )
    customer.delete()


def customer_for_booking_user(*, user: User) -> Customer:
    """The customer record of a signed-in customer, made from its account on first booking."""
    customer = Customer.objects.filter(user_id=user.pk).first()
    if customer is not None:
        return customer
    name = f"{user.first_name} {user.last_name}".strip() or user.email
    with transaction.atomic():
        try:
            with transaction.atomic():
                customer = Customer.objects.create(user=user, name=name, email=user.email)
        except IntegrityError:  # created concurrently by another request of the same user
            return Customer.objects.get(user_id=user.pk)
        security_event(
            "customer_created", actor=user, target=user, subject=customer, first_booking=True
        )
        customer_created.send(sender=Customer, tenant=user.tenant, customer=customer)
    return customer


ERASED_NAME = "Erased customer"


@transaction.atomic
def customer_personal_data_export(
    *, customer: Customer, actor: User | None, request: HttpRequest | Request | None = None
) -> dict[str, Any]:
    """The customer's personal data (``customers.selectors.customer_personal_data``), handed
    out once per call and recorded as such: who took a copy of whose data, and when."""
    data = customer_personal_data(customer=customer)
    security_event(
        "customer_data_exported",
        request=request,
        actor=actor,
        target=customer.user,
        subject=customer,
    )
    return data


@transaction.atomic
def customer_erase(
    *,
    tenant: Tenant,
    customer: Customer,
    actor: User | None,
    request: HttpRequest | Request | None = None,
) -> Customer:
    """Erase ``customer``'s personal data (GDPR), irreversibly: the record becomes an anonymous
    placeholder, its account an inactive one with an unusable password and a meaningless e-mail
    (it can never sign in again), its appointments lose their notes, its reviews their comments,
    its e-mail preferences go. Appointments, charges and their amounts stay: the business must
    keep its financial records. Erasing an erased customer changes and records nothing."""
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    if customer.erased_at is not None:
        return customer
    former_email = customer.email
    account = (
        User.objects.select_for_update().filter(pk=customer.user_id).first()
        if customer.user_id is not None
        else None
    )
    account_email = account.email if account is not None else ""
    if account is not None:
        account.email = f"erased-{account.public_id.hex}@erased.invalid"
        account.first_name = account.last_name = ""
        account.is_active = False
        account.set_unusable_password()
        account.save()
    customer.name = ERASED_NAME
    customer.email = customer.phone = customer.address = customer.notes = ""
    customer.tags = []
    customer.status = Customer.Status.INACTIVE
    customer.erased_at = clock.now()
    customer.save()
    figures = erase_elsewhere(
        tenant=tenant, customer=customer, emails={e for e in (former_email, account_email) if e}
    )
    security_event(
        "customer_erased",
        request=request,
        actor=actor,
        target=account,
        subject=customer,
        **figures,
    )
    return customer
