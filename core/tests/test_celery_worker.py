"""The periodic domain check travels the real way: a task message on Redis, taken by a Celery
worker (in a thread of this process), which runs it against the committed database."""

from __future__ import annotations

import socket
import time
import uuid

import pytest
from celery.contrib.testing.worker import start_worker

from config.celery import app
from tenancy.domains import custom_domain_add
from tenancy.models import Domain, Tenant
from tenancy.tasks import verify_custom_domains
from users.roles import Role

REDIS = ("127.0.0.1", 6379)


def redis_answers() -> bool:
    try:
        with socket.create_connection(REDIS, timeout=0.5):
            return True
    except OSError:
        return False


@pytest.mark.skipif(not redis_answers(), reason="no Redis on 127.0.0.1:6379 (make test starts one)")
@pytest.mark.django_db(transaction=True)
def test_beat_task_verifies_custom_domains_through_a_real_worker(aws, dns, make_user):
    owner = make_user(Role.TENANT_OWNER, Tenant.objects.get(schema_name="alpha"))
    name = f"book.{aws.zone_name}"
    domain = custom_domain_add(tenant=owner.tenant, domain=name, actor=owner)
    assert domain.verification_status == "PENDING"
    dns.publish(f"_smoothschedule-challenge.{name}", "TXT", domain.verification_token)
    dns.publish(name, "CNAME", "smoothschedule.yourhost.com")

    # A queue of this test's own: parallel test processes share the Redis server.
    queue = f"test-{uuid.uuid4().hex}"
    app.conf.broker_url = f"redis://{REDIS[0]}:{REDIS[1]}/0"
    with start_worker(app, pool="solo", perform_ping_check=False, queues=[queue]):
        verify_custom_domains.apply_async(queue=queue)
        deadline = time.monotonic() + 20
        while Domain.objects.get(domain=name).verification_status == "PENDING":
            assert time.monotonic() < deadline, "the worker never ran the task"
            time.sleep(0.1)
    assert Domain.objects.get(domain=name).verification_status == "VERIFIED"
