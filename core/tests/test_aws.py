"""The AWS client factory, its time budget against a hung endpoint, and the translation of AWS
failures into API errors that name nothing of the platform's."""

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from config.settings import aws as aws_settings
from conftest import HOST_A
from core import aws
from core.tests.conftest import point_settings_at
from core.tests.test_uploads import image_bytes, put_logo
from tenancy.models import Tenant
from users.roles import Role

# compose/django/start runs gunicorn with its default worker timeout.
GUNICORN_WORKER_TIMEOUT_SECONDS = 30
# What a request does besides waiting for AWS, with room for a machine busy with other work.
REQUEST_WORK_SECONDS = 2.0
ROLE_ARN = "arn:aws:sts::123456789012:assumed-role/smoothschedule-web/i-0abc123"


def test_clients_use_the_configured_endpoint_region_timeouts_and_retries(settings):
    point_settings_at(settings, "http://127.0.0.1:4566")
    settings.AWS_REGION = "eu-west-1"
    settings.AWS_S3_REGION_NAME = "eu-central-1"
    settings.AWS_CONNECT_TIMEOUT_SECONDS = 2
    settings.AWS_READ_TIMEOUT_SECONDS = 7
    settings.AWS_MAX_ATTEMPTS = 4
    route53 = aws.client("route53")
    assert route53.meta.endpoint_url == "http://127.0.0.1:4566"
    assert route53.meta.region_name == "eu-west-1"
    assert route53.meta.config.connect_timeout == 2
    assert route53.meta.config.read_timeout == 7
    assert route53.meta.config.retries["total_max_attempts"] == 4
    s3 = aws.client("s3")
    assert s3.meta.region_name == "eu-central-1"
    assert s3.meta.config.signature_version == "s3v4"


def test_a_per_service_endpoint_wins_over_the_shared_one(settings):
    point_settings_at(settings, "http://127.0.0.1:4566")
    settings.AWS_S3_ENDPOINT_URL = "http://127.0.0.1:9000"
    assert aws.client("s3").meta.endpoint_url == "http://127.0.0.1:9000"
    assert aws.client("route53").meta.endpoint_url == "http://127.0.0.1:4566"


def test_clients_are_reused_until_the_settings_change(settings):
    point_settings_at(settings, "http://127.0.0.1:4566")
    first = aws.client("route53")
    assert aws.client("route53") is first
    settings.AWS_REGION = "ap-southeast-2"
    assert aws.client("route53") is not first


def client_error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": f"{code} happened"}}, "AnyOperation")


def test_an_aws_refusal_becomes_a_502_whose_message_holds_none_of_awss_words():
    with pytest.raises(aws.AwsError) as error, aws.aws_errors("do the thing"):
        raise client_error("AccessDenied")
    assert error.value.status_code == 502
    assert error.value.aws_code == "AccessDenied"
    assert error.value.detail == "AccessDenied happened"
    assert error.value.message == (
        "The cloud service refused to do the thing. The platform's operators have the details."
    )


@pytest.mark.parametrize("code", ["Throttling", "PriorRequestNotComplete", "ServiceUnavailable"])
def test_transient_aws_answers_become_503(code):
    with pytest.raises(aws.AwsUnavailable) as error, aws.aws_errors("do the thing"):
        raise client_error(code)
    assert error.value.status_code == 503
    assert error.value.retry_after == 30


def test_an_unreachable_endpoint_becomes_503():
    with pytest.raises(aws.AwsUnavailable) as error, aws.aws_errors("reach AWS"):
        raise EndpointConnectionError(endpoint_url="http://127.0.0.1:9")
    assert error.value.code == "aws_unavailable"
    assert "try again later" in error.value.message


def quick_timeouts(settings, *, read: float = 1.0, budget: float = 2.5, attempts: int = 3) -> None:
    """Small numbers with the shape of the defaults, so that a hung endpoint costs a test ~1 s."""
    settings.AWS_CONNECT_TIMEOUT_SECONDS = 0.5
    settings.AWS_READ_TIMEOUT_SECONDS = read
    settings.AWS_MAX_ATTEMPTS = attempts
    settings.AWS_TOTAL_TIMEOUT_SECONDS = budget


def build_clients_now() -> None:
    """Build the clients for the current settings before a timing starts: building one reads
    botocore's models, which a busy machine may take a second to do, inside the budget."""
    aws.client("route53")
    aws.s3_resource()


def test_no_attempt_starts_that_could_end_after_the_budget(settings, hung_endpoint):
    point_settings_at(settings, hung_endpoint.url)
    quick_timeouts(settings, attempts=5)  # five attempts would take 5 s; the budget is 2.5 s
    route53 = aws.client("route53")
    started = time.monotonic()
    with pytest.raises(aws.AwsUnavailable) as error, aws.aws_errors("list zones"):
        route53.list_hosted_zones()
    assert time.monotonic() - started < settings.AWS_TOTAL_TIMEOUT_SECONDS
    assert error.value.aws_code == "AwsDeadlineExceeded"
    assert hung_endpoint.attempts == 1  # a second attempt of 1.5 s could not end in time


def test_the_calls_of_one_operation_share_its_budget(settings, hung_endpoint):
    point_settings_at(settings, hung_endpoint.url)
    quick_timeouts(settings, attempts=1)
    route53 = aws.client("route53")
    started = time.monotonic()
    with aws.time_budget():
        with pytest.raises(aws.AwsUnavailable), aws.aws_errors("list zones"):
            route53.list_hosted_zones()  # hangs for the read timeout
        with pytest.raises(aws.AwsUnavailable) as second, aws.aws_errors("list zones"):
            route53.list_hosted_zones()  # could not end in time: never sent
    assert second.value.aws_code == "AwsDeadlineExceeded"
    assert hung_endpoint.attempts == 1
    assert time.monotonic() - started < settings.AWS_TOTAL_TIMEOUT_SECONDS


def test_the_default_budget_is_well_under_gunicorns_worker_timeout():
    # config/settings/aws.py as deployed, not as a test changed it.
    assert aws_settings.AWS_TOTAL_TIMEOUT_SECONDS <= GUNICORN_WORKER_TIMEOUT_SECONDS / 2
    assert aws_settings.AWS_MAX_ATTEMPTS <= 2
    assert aws_settings.AWS_CONNECT_TIMEOUT_SECONDS + aws_settings.AWS_READ_TIMEOUT_SECONDS <= (
        aws_settings.AWS_TOTAL_TIMEOUT_SECONDS
    )


@pytest.mark.django_db
def test_a_hung_s3_makes_a_logo_upload_a_json_503_within_the_budget(
    aws, hung_endpoint, api, make_user, tenant_a, settings
):
    settings.AWS_S3_ENDPOINT_URL = hung_endpoint.url
    quick_timeouts(settings)
    build_clients_now()
    client = api(HOST_A, make_user(Role.TENANT_OWNER, tenant_a))
    # No logo yet; the first request of the process also warms it up before the timing.
    reply = client.get("/api/tenant/logo/")
    assert reply.status_code == 404
    assert reply.json()["error"]["code"] == "not_found"

    started = time.monotonic()
    response = put_logo(client, image_bytes())
    elapsed = time.monotonic() - started

    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == "aws_unavailable"
    assert response["Retry-After"] == "30"
    assert hung_endpoint.attempts == 1
    assert elapsed < settings.AWS_TOTAL_TIMEOUT_SECONDS + REQUEST_WORK_SECONDS, elapsed
    assert not Tenant.objects.get(pk=tenant_a.pk).logo


class RefusingAws(BaseHTTPRequestHandler):
    """Answers every request as AWS answers a caller its IAM role may not use, naming the role,
    the account and the zone, as AWS does."""

    body = (
        '<?xml version="1.0"?>'
        '<ErrorResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/">'
        "<Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User: "
        f"{ROLE_ARN} is not authorized to perform: route53:ListResourceRecordSets on resource: "
        "arn:aws:route53:::hostedzone/Z0PLATFORMZONE because no identity-based policy allows "
        "the route53:ListResourceRecordSets action</Message></Error>"
        "<RequestId>5e2d1c4b-0000-4000-8000-000000000000</RequestId></ErrorResponse>"
    ).encode()

    def answer(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(403)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    do_GET = do_POST = answer

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def refusing_aws() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), RefusingAws)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.django_db
def test_a_refusal_naming_the_iam_role_and_account_reaches_only_the_server_log(
    aws, refusing_aws, api, make_user, tenant_a, settings, security_lines
):
    settings.AWS_ROUTE53_ENDPOINT_URL = refusing_aws
    owner = make_user(Role.TENANT_OWNER, tenant_a)

    response = api(HOST_A, owner).post(
        "/api/domains/", {"domain": f"book.{aws.zone_name}"}, format="json"
    )

    assert response.status_code == 502
    assert response.json()["error"]["code"] == "aws_error"
    text = response.content.decode()
    for secret in ("arn:aws", "123456789012", "smoothschedule-web", "Z0PLATFORMZONE"):
        assert secret not in text
    failed = [line for line in security_lines() if line["event"] == "custom_domain_add_failed"]
    assert failed[-1]["aws_code"] == "AccessDenied"
    assert ROLE_ARN in failed[-1]["detail"]
