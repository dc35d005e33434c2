"""What public DNS says about a custom domain: its CNAME and the TXT values at its challenge name.

Verification must rest on what the world resolves, which the tenant controls, never on reading
back the platform's own Route53 write. The resolvers asked are ``CUSTOM_DOMAIN_DNS_RESOLVERS``
(the system's when empty); one look-up asks both questions within one time budget.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import dns.exception
import dns.resolver
from django.conf import settings

from core.exceptions import DomainError


class DnsUnavailable(DomainError):
    """DNS gave no usable answer in time (timeout, SERVFAIL): nothing is known either way."""

    status_code = 503
    default_code = "dns_unavailable"
    retry_after = 30


@dataclass(frozen=True)
class DomainDns:
    cname_target: str | None  # None: the name holds no CNAME (or does not exist)
    challenge_values: tuple[str, ...]  # the TXT strings at the challenge name


def _resolver() -> dns.resolver.Resolver:
    if not settings.CUSTOM_DOMAIN_DNS_RESOLVERS:
        return dns.resolver.Resolver()
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = list(settings.CUSTOM_DOMAIN_DNS_RESOLVERS)
    resolver.port = settings.CUSTOM_DOMAIN_DNS_PORT
    return resolver


def _answer(
    resolver: dns.resolver.Resolver, name: str, rdtype: str, deadline: float
) -> dns.resolver.Answer | None:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise DnsUnavailable("DNS did not answer in time; the check will be repeated.")
    try:
        return resolver.resolve(name, rdtype, lifetime=remaining, search=False)
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return None
    except dns.exception.DNSException as error:  # timeouts, SERVFAIL from every resolver
        raise DnsUnavailable("DNS did not answer in time; the check will be repeated.") from error


def domain_dns(*, name: str, challenge_name: str, timeout: float) -> DomainDns:
    """Resolve ``name``'s CNAME and ``challenge_name``'s TXT, both within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    resolver = _resolver()
    cname = _answer(resolver, name, "CNAME", deadline)
    txt = _answer(resolver, challenge_name, "TXT", deadline)
    return DomainDns(
        cname_target=(
            cname[0].target.to_text(omit_final_dot=True).lower() if cname is not None else None
        ),
        challenge_values=tuple(
            b"".join(record.strings).decode(errors="replace") for record in txt or []
        ),
    )
