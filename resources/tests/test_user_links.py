from conftest import HOST_A, connection
from users.models import User


def test_deleting_a_linked_user_on_the_platform_leaves_tenant_rows_readable(world_a, api):
    connection.set_schema_to_public()
    User.objects.filter(pk=world_a.staff.pk).delete()  # touches no tenant table
    response = api(HOST_A, world_a.owner).get(f"/api/resources/{world_a.stylist.public_id}/")
    assert response.status_code == 200
    assert response.json()["user"] is None


def test_a_resource_links_only_a_staff_account_of_this_business(world_a, api, make_user, tenant_b):
    client = api(HOST_A, world_a.owner)
    foreign = make_user("TENANT_STAFF", tenant=tenant_b)
    customer = world_a.customer_user
    for user in (foreign, customer):
        response = client.post(
            "/api/resources/",
            {"name": "X", "type": "STAFF", "user": str(user.public_id)},
            format="json",
        )
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "invalid"
        assert "user" in response.json()["error"]["fields"]
    taken = client.post(
        "/api/resources/",
        {"name": "Y", "type": "STAFF", "user": str(world_a.staff.public_id)},
        format="json",
    )
    assert taken.status_code == 409
    assert taken.json()["error"]["code"] == "conflict"
