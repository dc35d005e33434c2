"""Custom domains: a tenant's own host name, proven to be the tenant's and pointed at the platform.

Lifecycle: add (record created, row PENDING) -> verify (VERIFIED or FAILED, with time and
reason; only VERIFIED domains route to the tenant) -> remove (our record deleted, row deleted).

* add: the name must be a public one that is not the platform's, not taken and not under another
  tenant's domain. The platform then *creates* ``<name> CNAME <PLATFORM_CNAME_TARGET>`` in Route53
  -- CREATE, never UPSERT: when the zone holds anything at that name already, the add is refused
  (409 ``dns_record_exists``) and nothing is touched. The row, written second, remembers exactly
  the record created (value and TTL) and a random token; if it cannot be written, the record is
  deleted again. No row exists for a record AWS refused.
* verify: public DNS, not the platform's own Route53 write, must show the proof only whoever runs
  the domain's DNS can publish -- ``<CHALLENGE_LABEL>.<name> TXT "<token>"`` -- and the CNAME
  pointing at the platform. When DNS does not answer in time nothing is recorded: a domain that
  works is not taken offline because the check itself failed.
* remove: deletes the row (audited), then the record the add created, and only while the zone
  still holds exactly it (Route53's DELETE also insists on the exact value and TTL), all in one
  transaction: a refused DELETE keeps the row.

Time: the AWS calls of one operation share one budget (``core.aws.time_budget``), so a hung AWS
costs a request seconds, then a 503. A CREATE that got no answer may still have landed: the add
answers 503 and a Celery task deletes that record later, if it exists and no row claims the name.

Errors name nothing of the platform's (zones, accounts, roles): AWS's own words go to the server
log and the audit trail (``aws_code``, ``detail``); callers get a stable code and our message.

A caller's enclosing transaction that rolled back *after* ``custom_domain_add`` returned would
leave the record without its row, so callers keep nothing fallible after it (the admin's only
writes its LogEntry).
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

from celery import current_app
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from kombu.exceptions import KombuError

from core import aws
from core.audit import security_event
from core.exceptions import Conflict, DomainError, PermissionDenied
from core.validators import validate_custom_hostname
from tenancy import route53
from tenancy.dns_lookup import DnsUnavailable, DomainDns, domain_dns
from tenancy.models import Domain, Tenant

# Route53 zone ids: letters and digits; "/hostedzone/Z123" as AWS prints them is accepted.
ZONE_ID_PATTERN = re.compile(r"^[A-Z0-9]{1,32}$")
MAX_DNS_NAME_LENGTH = 253
# AWS answers that say "this zone or this change is wrong", as opposed to "AWS is unwell".
_ZONE_MISSING = "NoSuchHostedZone"
_CHANGE_REJECTED = frozenset({"InvalidChangeBatch", "InvalidInput", "InvalidDomainName"})


# The jobs tenancy.tasks registers, which call this module: queued by their names.
VERIFY_DOMAIN_JOB = "core.tasks.verify_custom_domain"
DISCARD_RECORD_JOB = "core.tasks.discard_custom_domain_record"


def _enqueue(job: str, *args: Any) -> None:
    current_app.signature(job, args=args).delay()


def challenge_name(domain_name: str) -> str:
    """Where the tenant publishes the ownership token of ``domain_name`` (a TXT record)."""
    return f"{settings.CUSTOM_DOMAIN_CHALLENGE_LABEL}.{domain_name}"


def cname_target() -> str:
    """Where every custom domain points: the platform's own host name."""
    return route53.bare(settings.PLATFORM_CNAME_TARGET)


def zone_for(domain: Domain) -> str:
    """The hosted zone holding ``domain``'s record: its own, else the platform's default."""
    return domain.route53_zone_id or settings.AWS_ROUTE53_HOSTED_ZONE_ID


def record_created_for(domain: Domain) -> route53.CnameRecord | None:
    """The CNAME the platform created for ``domain``, exactly; None when it created none."""
    ttl = domain.route53_record_ttl  # set exactly when the value is (a check constraint)
    if not domain.route53_record_value or ttl is None:
        return None
    return route53.CnameRecord(name=domain.domain, target=domain.route53_record_value, ttl=ttl)


def records_to_publish(domain: Domain) -> list[dict[str, str]]:
    """The DNS records a custom domain needs before it verifies; none for platform domains."""
    if not domain.is_custom_domain:
        return []
    return [
        {
            "name": challenge_name(domain.domain),
            "type": "TXT",
            "value": domain.verification_token,
            "purpose": "Proves the domain is yours; keep it published.",
        },
        {
            "name": domain.domain,
            "type": "CNAME",
            "value": cname_target(),
            "purpose": "Sends the domain's visitors to the platform.",
        },
    ]


def _invalid_name(message: str) -> DomainError:
    return DomainError(message, code="invalid_domain", fields={"domain": [message]})


def _clean_name(domain: str) -> str:
    name = route53.bare(domain or "")
    try:
        validate_custom_hostname(name)
    except ValidationError as error:
        raise _invalid_name(error.messages[0]) from None
    if len(challenge_name(name)) > MAX_DNS_NAME_LENGTH:
        raise _invalid_name(f"'{name}' is too long to carry its ownership record.")
    return name


def _clean_zone_id(zone_id: str) -> str:
    zone_id = (zone_id or "").strip().removeprefix("/hostedzone/").upper()
    if zone_id and not ZONE_ID_PATTERN.fullmatch(zone_id):
        message = f"'{zone_id}' is not a Route53 hosted zone id (like Z1234567890ABC)."
        raise DomainError(message, code="invalid_zone_id", fields={"route53_zone_id": [message]})
    return zone_id


def _parents(name: str) -> list[str]:
    labels = name.split(".")
    return [".".join(labels[start:]) for start in range(1, len(labels))]


def _refuse_unavailable_name(*, name: str, tenant: Tenant) -> None:
    """Taken by anyone, or under a name another tenant holds (its custom or platform domain)."""
    if Domain.objects.filter(domain=name).exists():
        message = f"The domain '{name}' is already in use."
        raise DomainError(message, code="domain_taken", fields={"domain": [message]})
    if Domain.objects.filter(domain__in=_parents(name)).exclude(tenant=tenant).exists():
        message = f"'{name}' is under a domain that belongs to another business."
        raise DomainError(message, code="domain_of_another_tenant", fields={"domain": [message]})


def _refuse_zone_of_another_tenant(*, zone_id: str, tenant: Tenant) -> None:
    """A zone chosen for one tenant's domains is that tenant's; the default zone is shared."""
    if zone_id == _clean_zone_id(settings.AWS_ROUTE53_HOSTED_ZONE_ID):
        return
    if Domain.objects.filter(route53_zone_id=zone_id).exclude(tenant=tenant).exists():
        message = "This hosted zone holds another business's domains."
        raise DomainError(
            message, code="hosted_zone_of_another_tenant", fields={"route53_zone_id": [message]}
        )


def _lock_name(name: str) -> None:
    """Serialise every Route53 write and row write for ``name`` until this transaction ends."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"domain:{name}"])


def _record_exists(name: str) -> Conflict:
    message = (
        f"The DNS zone already holds a record named '{name}'; the platform never replaces "
        "records it did not create."
    )
    return Conflict(message, code="dns_record_exists", fields={"domain": [message]})


def _is_change_rejected(error: aws.AwsError) -> bool:
    return error.aws_code in _CHANGE_REJECTED


def _explain_aws_refusal(error: aws.AwsError, *, name: str) -> DomainError:
    """Refusals about the request become 4xx; the rest stay the generic 502/503."""
    if error.aws_code == _ZONE_MISSING:
        message = "The Route53 hosted zone for this domain does not exist."
        return DomainError(
            message, code="hosted_zone_not_found", fields={"route53_zone_id": [message]}
        )
    if _is_change_rejected(error) and "already exists" in error.detail:
        return _record_exists(name)
    if _is_change_rejected(error):
        message = f"The platform cannot create a DNS record for '{name}' in its DNS zone."
        return DomainError(message, code="dns_record_rejected", fields={"domain": [message]})
    return error


def _discard_later(*, zone_id: str, record: route53.CnameRecord, audit: dict[str, Any]) -> None:
    """Have a worker delete ``record`` once AWS answers, if it landed and nobody claims it."""
    try:
        _enqueue(DISCARD_RECORD_JOB, zone_id, record.name, record.target, record.ttl)
    except (KombuError, OSError) as error:
        # The one state we cannot repair here: say so loudly, with everything needed by hand.
        security_event(
            "custom_domain_orphan_record",
            level=logging.ERROR,
            zone_id=zone_id,
            record_value=record.target,
            record_ttl=record.ttl,
            detail=str(error),
            **audit,
        )


def custom_domain_add(
    *,
    tenant: Tenant,
    domain: str,
    route53_zone_id: str = "",
    may_choose_zone: bool = False,
    actor: Any,
    request: Any = None,
) -> Domain:
    """Add ``domain`` to ``tenant``: create its CNAME to the platform and a PENDING row.

    The domain serves nothing until verification finds the tenant's proof in DNS. Only a caller
    that may choose the hosted zone (``users.roles.may_choose_hosted_zone`` of its actor) names
    one; everyone else gets the platform's default zone.
    """
    name = _clean_name(domain)
    zone_id = _zone_to_add_in(route53_zone_id, may_choose_zone=may_choose_zone)
    _refuse_unavailable_name(name=name, tenant=tenant)
    _refuse_zone_of_another_tenant(zone_id=zone_id, tenant=tenant)
    record = route53.CnameRecord(
        name=name, target=cname_target(), ttl=settings.CUSTOM_DOMAIN_RECORD_TTL
    )
    audit = {
        "request": request,
        "actor": actor,
        "domain": name,
        "zone_id": zone_id,
        "tenant_schema": tenant.schema_name,
    }
    return _record_and_row_create(tenant=tenant, zone_id=zone_id, record=record, audit=audit)


def _zone_to_add_in(route53_zone_id: str, *, may_choose_zone: bool) -> str:
    """The hosted zone a new custom domain's record goes to: the one asked for, if the caller
    may choose, else the platform's default; refused when there is none."""
    zone_id = _clean_zone_id(route53_zone_id)
    if zone_id and not may_choose_zone:
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
    return zone_id


@dataclass
class _AddProgress:
    """How far an add got, for what a failure has to clean up."""

    create_sent: bool = False  # the CREATE went to Route53 (it may have landed)
    written: bool = False  # Route53 confirmed the CREATE


def _record_and_row_create(
    *, tenant: Tenant, zone_id: str, record: route53.CnameRecord, audit: dict[str, Any]
) -> Domain:
    """Create the record, then the row, within one AWS time budget; on failure, audit it and
    undo (or have a worker undo) whatever record this add may have created."""
    progress = _AddProgress()
    with aws.time_budget():
        try:
            return _create_under_lock(
                tenant=tenant, zone_id=zone_id, record=record, audit=audit, progress=progress
            )
        except aws.AwsError as error:
            security_event(
                "custom_domain_add_failed", aws_code=error.aws_code, detail=error.detail, **audit
            )
            if progress.create_sent and isinstance(error, aws.AwsUnavailable):
                # No answer to the CREATE: it may have landed all the same.
                _discard_later(zone_id=zone_id, record=record, audit=audit)
            raise _explain_aws_refusal(error, name=record.name) from error
        except Exception as error:
            if isinstance(error, DomainError):  # refused under the lock: taken, record exists
                security_event("custom_domain_add_refused", code=error.code, **audit)
            if progress.written:
                _undo_create(zone_id=zone_id, record=record, audit=audit)
            raise


def _create_under_lock(
    *,
    tenant: Tenant,
    zone_id: str,
    record: route53.CnameRecord,
    audit: dict[str, Any],
    progress: _AddProgress,
) -> Domain:
    """Under the name's lock, checked again: the CREATE (never over an existing record), then
    the row remembering it exactly, then its audit event."""
    with transaction.atomic():
        _lock_name(record.name)
        _refuse_unavailable_name(name=record.name, tenant=tenant)
        if route53.record_sets_named(zone_id=zone_id, name=record.name):
            raise _record_exists(record.name)
        progress.create_sent = True
        route53.cname_create(zone_id=zone_id, record=record)
        progress.written = True
        created = _insert_row(tenant=tenant, zone_id=zone_id, record=record)
        security_event("custom_domain_added", cname_target=record.target, **audit)
    return created


def _insert_row(*, tenant: Tenant, zone_id: str, record: route53.CnameRecord) -> Domain:
    try:
        with transaction.atomic():
            return Domain.objects.create(
                domain=record.name,
                tenant=tenant,
                is_primary=False,
                is_custom_domain=True,
                route53_zone_id=zone_id,
                route53_record_value=record.target,
                route53_record_ttl=record.ttl,
                verification_status=Domain.Verification.PENDING,
            )
    except IntegrityError as error:  # taken meanwhile by a write that skipped the lock
        message = f"The domain '{record.name}' is already in use."
        raise DomainError(message, code="domain_taken", fields={"domain": [message]}) from error


def _undo_create(*, zone_id: str, record: route53.CnameRecord, audit: dict[str, Any]) -> None:
    """The row could not be written: delete the record this add created a moment ago."""
    try:
        route53.cname_delete(zone_id=zone_id, record=record)
    except aws.AwsError as error:
        security_event(
            "custom_domain_compensation_failed",
            level=logging.ERROR,
            aws_code=error.aws_code,
            detail=error.detail,
            **audit,
        )
        _discard_later(zone_id=zone_id, record=record, audit=audit)
        return
    security_event("custom_domain_add_rolled_back", **audit)


def _holds_exactly(*, zone_id: str, record: route53.CnameRecord) -> bool:
    """Whether the zone holds exactly ``record``. Anything else at the name was changed or made
    by someone else and is not ours to delete."""
    try:
        present = route53.record_sets_named(zone_id=zone_id, name=record.name)
    except aws.AwsError as error:
        if error.aws_code == _ZONE_MISSING:
            return False
        raise
    return any(record.matches(record_set) for record_set in present)


def custom_domain_record_discard(*, zone_id: str, record: route53.CnameRecord) -> bool:
    """Delete a record an add may have created without its row (the CREATE got no answer).

    Left alone when any domain row claims the name: it is then that row's. The discard is
    audited before the record goes, in one transaction, as a removal is. Raises
    ``AwsUnavailable`` when AWS still does not answer (the task tries again later).
    """
    with transaction.atomic(), aws.time_budget():
        _lock_name(record.name)
        if Domain.objects.filter(domain=record.name).exists():
            return False
        present = _holds_exactly(zone_id=zone_id, record=record)
        security_event(
            "custom_domain_orphan_record_discarded" if present else "custom_domain_orphan_absent",
            domain=record.name,
            zone_id=zone_id,
        )
        if present:
            route53.cname_delete(zone_id=zone_id, record=record)
    return present


def _judge(domain: Domain, found: DomainDns) -> tuple[str, str]:
    """(status, reason) of ``domain`` from what DNS says about it."""
    problems = []
    if domain.verification_token not in found.challenge_values:
        problems.append(
            f"No TXT record at {challenge_name(domain.domain)} holds this domain's token."
        )
    target = cname_target()
    if found.cname_target is None:
        problems.append(f"{domain.domain} has no CNAME record; point it at {target}.")
    elif found.cname_target != target:
        problems.append(f"{domain.domain} points at {found.cname_target}, not at {target}.")
    if problems:
        return Domain.Verification.FAILED, " ".join(problems)
    return Domain.Verification.VERIFIED, ""


def _refuse_platform_domain(domain: Domain, doing: str) -> None:
    if not domain.is_custom_domain:
        raise DomainError(
            f"'{domain.domain}' is a platform domain; only custom domains are {doing} here.",
            code="not_custom_domain",
        )


def custom_domain_verify(
    *, domain: Domain, actor: Any = None, request: Any = None, timeout: float | None = None
) -> Domain:
    """Look ``domain`` up in DNS within ``timeout`` seconds and record VERIFIED or FAILED, when
    and why. Raises ``DnsUnavailable``, recording nothing, when DNS does not answer in time."""
    _refuse_platform_domain(domain, "verified")
    try:
        found = domain_dns(
            name=domain.domain,
            challenge_name=challenge_name(domain.domain),
            timeout=settings.CUSTOM_DOMAIN_DNS_TIMEOUT_SECONDS if timeout is None else timeout,
        )
    except DnsUnavailable:
        security_event(
            "custom_domain_check_unavailable",
            request=request,
            actor=actor,
            domain=domain.domain,
            tenant_schema=domain.tenant.schema_name,
        )
        raise
    status, reason = _judge(domain, found)
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


def custom_domain_verify_or_queue(
    *, domain: Domain, actor: Any, request: Any = None
) -> tuple[Domain, bool]:
    """Verify within the request's short DNS budget; when DNS does not answer in time, leave the
    domain as it is and queue the check for a Celery worker, which has a longer budget.

    Returns the domain and whether the check was queued. Raises ``DnsUnavailable`` (503) when
    it could be neither made nor queued.
    """
    try:
        return custom_domain_verify(domain=domain, actor=actor, request=request), False
    except DnsUnavailable:
        try:
            _enqueue(VERIFY_DOMAIN_JOB, domain.pk)
        except (KombuError, OSError) as error:
            raise DnsUnavailable(
                "DNS did not answer in time and the check could not be queued; try again later."
            ) from error
    security_event(
        "custom_domain_verification_queued",
        request=request,
        actor=actor,
        domain=domain.domain,
        tenant_schema=domain.tenant.schema_name,
    )
    return domain, True


def custom_domain_verify_in_background(*, domain_id: int) -> str | None:
    """The queued check: the domain's new status, or None when it is gone or DNS still did not
    answer (the periodic job tries again)."""
    domain = (
        Domain.objects.filter(pk=domain_id, is_custom_domain=True).select_related("tenant").first()
    )
    if domain is None:
        return None
    try:
        checked = custom_domain_verify(
            domain=domain, timeout=settings.CUSTOM_DOMAIN_DNS_TASK_TIMEOUT_SECONDS
        )
    except DnsUnavailable:
        return None
    return checked.verification_status


def custom_domain_remove(*, domain: Domain, actor: Any, request: Any = None) -> None:
    """Delete the domain, then the CNAME the platform created for it (if still exactly as
    created). When AWS cannot be asked, nothing changes and the caller gets the error.

    The row goes and its audit event is written first, in one transaction; the record is deleted
    last inside it, so a record is never deleted for a removal that was not recorded. A DELETE
    that Route53 refuses (the record changed since it was read) rolls the removal back with it:
    the row stays and still tells the truth, and the next attempt leaves that record alone.
    """
    _refuse_platform_domain(domain, "removed")
    zone_id = zone_for(domain)
    audit = {
        "request": request,
        "actor": actor,
        "domain": domain.domain,
        "zone_id": zone_id,
        "tenant_schema": domain.tenant.schema_name,
    }
    record = record_created_for(domain)
    try:
        with transaction.atomic(), aws.time_budget():
            _lock_name(domain.domain)
            ours = record is not None and _holds_exactly(zone_id=zone_id, record=record)
            Domain.objects.filter(pk=domain.pk).delete()
            security_event("custom_domain_removed", record_removed=ours, **audit)
            if ours and record is not None:
                route53.cname_delete(zone_id=zone_id, record=record)
    except aws.AwsError as error:
        security_event(
            "custom_domain_remove_failed", aws_code=error.aws_code, detail=error.detail, **audit
        )
        raise


def custom_domains_verify_all() -> dict[str, int]:
    """Verify every custom domain (the periodic job). Returns how many ended in each state."""
    outcome: Counter[str] = Counter()
    for domain in Domain.objects.filter(is_custom_domain=True).select_related("tenant"):
        try:
            checked = custom_domain_verify(
                domain=domain, timeout=settings.CUSTOM_DOMAIN_DNS_TASK_TIMEOUT_SECONDS
            )
        except DnsUnavailable:  # already audited; the status stays as it was until the next run
            outcome["unchecked"] += 1
            continue
        outcome[checked.verification_status] += 1
    return dict(outcome)
