"""Custom domains: a tenant's own host name, pointed at the platform by a CNAME in Route53.

Lifecycle: add (record written, row PENDING) -> verify (VERIFIED or FAILED, with time and
reason; only VERIFIED domains route to the tenant) -> remove (record deleted, row deleted).

The database and Route53 must never disagree about what the platform asked DNS to do, so each
write goes to Route53 *first* and to the database second:

* add: upsert the CNAME, then insert the row; if the insert or its commit fails, the zone is
  put back as it was (compensation). No row is ever written for a record AWS refused.
* remove: delete the CNAME, then the row; if AWS refuses, the row stays and still tells the
  truth.
* verify only reads Route53 and records the outcome.

The compensation covers this function's own transaction. A caller's enclosing transaction that
rolled back *after* it returned would leave the record without its row, so callers keep nothing
fallible after it inside their transaction (the admin's only writes its LogEntry).
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from core import route53
from core.audit import security_event
from core.aws import AwsError
from core.exceptions import DomainError, PermissionDenied
from core.models import Domain, Tenant
from core.validators import validate_custom_hostname
from users.roles import Role

# Route53 zone ids: letters and digits; "/hostedzone/Z123" as AWS prints them is accepted.
ZONE_ID_PATTERN = re.compile(r"^[A-Z0-9]{1,32}$")
# A hosted zone is an account-wide resource: only platform operators may point a domain at one;
# tenant owners get the platform's default zone.
ZONE_CHOOSING_ROLES = frozenset({Role.SUPERUSER, Role.PLATFORM_MANAGER})
# AWS answers that say "this zone or name is wrong", as opposed to "AWS is unwell".
_ZONE_MISSING = "NoSuchHostedZone"
_REQUEST_REJECTED = frozenset({"InvalidChangeBatch", "InvalidInput", "InvalidDomainName"})


def may_choose_hosted_zone(user: Any) -> bool:
    return getattr(user, "role", None) in ZONE_CHOOSING_ROLES


def _clean_name(domain: str) -> str:
    name = (domain or "").strip().lower().rstrip(".")
    try:
        validate_custom_hostname(name)
    except ValidationError as error:
        raise DomainError(
            error.messages[0], code="invalid_domain", fields={"domain": error.messages}
        ) from None
    return name


def _clean_zone_id(zone_id: str) -> str:
    zone_id = (zone_id or "").strip().removeprefix("/hostedzone/").upper()
    if zone_id and not ZONE_ID_PATTERN.fullmatch(zone_id):
        message = f"'{zone_id}' is not a Route53 hosted zone id (like Z1234567890ABC)."
        raise DomainError(message, code="invalid_zone_id", fields={"route53_zone_id": [message]})
    return zone_id


def cname_target() -> str:
    """Where every custom domain points: the platform's own host name."""
    return settings.PLATFORM_CNAME_TARGET.strip().rstrip(".").lower()


def zone_for(domain: Domain) -> str:
    """The hosted zone holding ``domain``'s record: its own, else the platform's default."""
    return domain.route53_zone_id or settings.AWS_ROUTE53_HOSTED_ZONE_ID


def _refuse_taken(name: str) -> None:
    if Domain.objects.filter(domain=name).exists():
        message = f"The domain '{name}' is already in use."
        raise DomainError(message, code="domain_taken", fields={"domain": [message]})


def _explain_aws_refusal(error: AwsError, *, zone_id: str, name: str) -> DomainError:
    """Turn AWS refusals that are about the request into 400s; the rest stay 502/503."""
    if error.aws_code == _ZONE_MISSING:
        message = f"Route53 hosted zone '{zone_id}' does not exist."
        return DomainError(
            message, code="hosted_zone_not_found", fields={"route53_zone_id": [message]}
        )
    if error.aws_code in _REQUEST_REJECTED:
        message = f"Route53 refused the record for '{name}' in zone '{zone_id}': {error.message}"
        return DomainError(message, code="dns_record_rejected", fields={"domain": [message]})
    return error


def custom_domain_add(
    *,
    tenant: Tenant,
    domain: str,
    route53_zone_id: str = "",
    actor: Any,
    request: Any = None,
) -> Domain:
    """Add ``domain`` to ``tenant`` and point it at the platform (CNAME to PLATFORM_CNAME_TARGET).

    The domain starts PENDING and serves nothing until verification proves the record.
    """
    name = _clean_name(domain)
    zone_id = _clean_zone_id(route53_zone_id)
    if zone_id and actor is not None and not may_choose_hosted_zone(actor):
        raise PermissionDenied(
            "Only platform operators choose the Route53 hosted zone.",
            fields={"route53_zone_id": ["Leave this empty to use the platform's zone."]},
        )
    zone_id = zone_id or _clean_zone_id(settings.AWS_ROUTE53_HOSTED_ZONE_ID)
    if not zone_id:
        raise DomainError(
            "Custom domains are not set up on this platform (no Route53 hosted zone).",
            code="custom_domains_unavailable",
        )
    _refuse_taken(name)
    audit = {"request": request, "actor": actor, "tenant_schema": tenant.schema_name}

    zone_written = False
    previous: route53.CnameRecord | None = None
    try:
        with transaction.atomic():
            # Two requests for one name must not interleave their Route53 writes and their
            # compensations: serialise them on the name for the length of this transaction.
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"domain:{name}"])
            _refuse_taken(name)
            previous = route53.cname_get(zone_id=zone_id, name=name)
            route53.cname_upsert(
                zone_id=zone_id,
                name=name,
                target=cname_target(),
                ttl=settings.CUSTOM_DOMAIN_RECORD_TTL,
            )
            zone_written = True
            try:
                with transaction.atomic():
                    created = Domain.objects.create(
                        domain=name,
                        tenant=tenant,
                        is_primary=False,
                        is_custom_domain=True,
                        route53_zone_id=zone_id,
                        verification_status=Domain.Verification.PENDING,
                    )
            except IntegrityError as error:  # taken meanwhile by a write that skipped the lock
                message = f"The domain '{name}' is already in use."
                raise DomainError(
                    message, code="domain_taken", fields={"domain": [message]}
                ) from error
            security_event(
                "custom_domain_added",
                domain=name,
                zone_id=zone_id,
                cname_target=cname_target(),
                **audit,
            )
    except AwsError as error:
        # Route53 refused before anything was written. Recorded after the rollback, which would
        # otherwise take the record of the refusal with it.
        security_event(
            "custom_domain_add_failed",
            domain=name,
            zone_id=zone_id,
            aws_code=error.aws_code,
            reason=error.message,
            **audit,
        )
        raise _explain_aws_refusal(error, zone_id=zone_id, name=name) from error
    except Exception:
        if zone_written:
            _compensate_add(zone_id=zone_id, name=name, previous=previous, audit=audit)
        raise
    return created


def _compensate_add(
    *, zone_id: str, name: str, previous: route53.CnameRecord | None, audit: dict[str, Any]
) -> None:
    try:
        route53.cname_restore(zone_id=zone_id, name=name, previous=previous)
    except AwsError as error:
        # The one state we cannot repair here: say so loudly, with everything needed by hand.
        security_event(
            "custom_domain_compensation_failed",
            level=logging.ERROR,
            domain=name,
            zone_id=zone_id,
            previous_target=previous.target if previous else None,
            reason=error.message,
            **audit,
        )
        return
    security_event("custom_domain_add_rolled_back", domain=name, zone_id=zone_id, **audit)


def _check_record(domain: Domain) -> tuple[str, str]:
    """(status, reason) of ``domain``'s record. Raises AwsError when the check cannot be made."""
    zone_id = zone_for(domain)
    if not zone_id:
        return Domain.Verification.FAILED, "No Route53 hosted zone is set for this domain."
    try:
        record = route53.cname_get(zone_id=zone_id, name=domain.domain)
    except AwsError as error:
        if error.aws_code == _ZONE_MISSING:
            return Domain.Verification.FAILED, f"Route53 hosted zone '{zone_id}' does not exist."
        if error.aws_code in _REQUEST_REJECTED:
            return Domain.Verification.FAILED, f"Route53 refused the lookup: {error.message}"
        raise
    target = cname_target()
    if record is None:
        return (
            Domain.Verification.FAILED,
            f"No CNAME record for {domain.domain} in Route53 hosted zone '{zone_id}'.",
        )
    if record.target != target:
        return (
            Domain.Verification.FAILED,
            f"{domain.domain} points at {record.target}, not at {target}.",
        )
    return Domain.Verification.VERIFIED, ""


def custom_domain_verify(*, domain: Domain, actor: Any = None, request: Any = None) -> Domain:
    """Check ``domain``'s CNAME in Route53 and record VERIFIED or FAILED, when and why.

    If AWS cannot be asked (network, throttling, credentials) nothing is recorded: a domain that
    works is not taken offline because the check itself failed. The caller gets the AwsError.
    """
    if not domain.is_custom_domain:
        raise DomainError(
            f"'{domain.domain}' is a platform domain; only custom domains are verified.",
            code="not_custom_domain",
        )
    try:
        status, reason = _check_record(domain)
    except AwsError as error:
        security_event(
            "custom_domain_check_unavailable",
            request=request,
            actor=actor,
            domain=domain.domain,
            tenant_schema=domain.tenant.schema_name,
            aws_code=error.aws_code,
            reason=error.message,
        )
        raise
    with transaction.atomic():
        domain = Domain.objects.select_for_update().select_related("tenant").get(pk=domain.pk)
        previous_status = domain.verification_status
        domain.verification_status = status
        domain.verification_checked_at = timezone.now()
        domain.verification_error = reason
        domain.save(
            update_fields=["verification_status", "verification_checked_at", "verification_error"]
        )
        security_event(
            "custom_domain_verified"
            if status == Domain.Verification.VERIFIED
            else "custom_domain_verification_failed",
            request=request,
            actor=actor,
            domain=domain.domain,
            tenant_schema=domain.tenant.schema_name,
            previous_status=previous_status,
            status=status,
            reason=reason,
        )
    return domain


def custom_domain_remove(*, domain: Domain, actor: Any, request: Any = None) -> None:
    """Delete ``domain`` and, when it points at the platform, its CNAME in Route53.

    The row goes and its audit event is written first, in one transaction; the record is deleted
    last inside it, so a record is never deleted for a removal that was not recorded, and a
    refusal from AWS rolls the removal back (the row stays and still tells the truth).
    """
    if not domain.is_custom_domain:
        raise DomainError(
            f"'{domain.domain}' is a platform domain; only custom domains are removed here.",
            code="not_custom_domain",
        )
    zone_id = zone_for(domain)
    audit = {
        "request": request,
        "actor": actor,
        "domain": domain.domain,
        "zone_id": zone_id,
        "tenant_schema": domain.tenant.schema_name,
    }
    try:
        with transaction.atomic():
            record = _platform_record(zone_id, domain.domain)
            Domain.objects.filter(pk=domain.pk).delete()
            security_event("custom_domain_removed", record_removed=record is not None, **audit)
            if record is not None:
                route53.cname_delete(zone_id=zone_id, record=record)
    except AwsError as error:
        security_event(
            "custom_domain_remove_failed", aws_code=error.aws_code, reason=error.message, **audit
        )
        raise


def _platform_record(zone_id: str, name: str) -> route53.CnameRecord | None:
    """``name``'s CNAME when it points at the platform. A record pointing elsewhere was not
    written by us (or was changed by its owner): it is not ours to delete."""
    if not zone_id:
        return None
    try:
        record = route53.cname_get(zone_id=zone_id, name=name)
    except AwsError as error:
        if error.aws_code == _ZONE_MISSING:
            return None
        raise
    return record if record is not None and record.target == cname_target() else None


def custom_domains_verify_all() -> dict[str, int]:
    """Verify every custom domain (the periodic job). Returns how many ended in each state."""
    outcome: Counter[str] = Counter()
    for domain in Domain.objects.filter(is_custom_domain=True).select_related("tenant"):
        try:
            outcome[custom_domain_verify(domain=domain).verification_status] += 1
        except AwsError:  # already audited; the status stays as it was until the next run
            outcome["unchecked"] += 1
    return dict(outcome)
