"""The AWS client factory and the translation of AWS failures into API errors."""

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from core import aws
from core.tests.conftest import point_settings_at


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


def test_an_aws_refusal_becomes_a_502_domain_error_with_the_aws_code():
    with pytest.raises(aws.AwsError) as error, aws.aws_errors("do the thing"):
        raise client_error("AccessDenied")
    assert error.value.status_code == 502
    assert error.value.aws_code == "AccessDenied"
    assert error.value.message == (
        "AWS could not do the thing: AccessDenied happened (AccessDenied)."
    )


@pytest.mark.parametrize("code", ["Throttling", "PriorRequestNotComplete", "ServiceUnavailable"])
def test_transient_aws_answers_become_503(code):
    with pytest.raises(aws.AwsUnavailable) as error, aws.aws_errors("do the thing"):
        raise client_error(code)
    assert error.value.status_code == 503


def test_an_unreachable_endpoint_becomes_503():
    with pytest.raises(aws.AwsUnavailable) as error, aws.aws_errors("reach AWS"):
        raise EndpointConnectionError(endpoint_url="http://127.0.0.1:9")
    assert error.value.code == "aws_unavailable"
    assert "try again later" in error.value.message
