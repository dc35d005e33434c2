"""Per-resource price and duration of a service: managed through the catalogue API, used by
availability (slot lengths, which resource is free) and by booking (price, length, hold)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from appointments.availability import ResourceCalendar, free_slots, resources_for_start
from appointments.models import Allocation
from appointments.selectors import availability_for
from catalog.models import ServiceResourceOverride
from catalog.services import service_update
from conftest import HOST_A

UTC = ZoneInfo("UTC")
H = 3600


def calendar(rid, open_, busy=(), duration=None):
    return ResourceCalendar(resource_id=rid, open_=list(open_), busy=list(busy), duration=duration)


def test_a_longer_resource_is_passed_over_when_its_length_no_longer_fits_the_others():
    # Resource 1 takes two hours, 2 the service's one hour; the room is busy from 1h to 2h.
    slow, quick = calendar(1, [(0, 4 * H)], duration=2 * H), calendar(2, [(0, 4 * H)])
    room = calendar(3, [(0, 4 * H)], busy=[(H, 2 * H)])
    slots = free_slots(
        requirements=[[slow, quick], [room]], duration=H, before=0, after=0, step=H,
        tz=UTC, earliest=0, latest=4 * H,
    )  # fmt: skip
    assert [(s.start, s.end, s.resource_ids) for s in slots] == [
        (0, H, (2, 3)),  # the slow one would still hold the room when it is busy
        (2 * H, 4 * H, (1, 3)),
        (3 * H, 4 * H, (2, 3)),  # two hours from 3h do not fit the opening hours
    ]
    assert resources_for_start(
        requirements=[[slow, quick], [room]], start=0, duration=H, before=0, after=0
    ) == (2, 3)


def test_a_shorter_resource_opens_starts_the_service_length_would_not():
    quick = calendar(1, [(0, 2 * H)], busy=[(H + H // 2, 2 * H)], duration=H // 2)
    slots = free_slots(
        requirements=[[quick]], duration=H, before=0, after=0, step=H // 2,
        tz=UTC, earliest=0, latest=2 * H,
    )  # fmt: skip
    assert [(s.start, s.end) for s in slots] == [(0, H // 2), (H // 2, H), (H, H + H // 2)]


def override_ana(world, **fields):
    service_update(
        service=world.cut, actor=world.owner,
        resource_overrides=[{"resource": world.stylist, **fields}],
    )  # fmt: skip


def slots(world, service=None):
    result = availability_for(
        service=service or world.cut, date_from=world.day, date_to=world.day, tz=UTC,
        now=datetime.combine(world.day - timedelta(days=7), time(0), tzinfo=UTC), step_minutes=60,
    )  # fmt: skip
    return {
        datetime.fromtimestamp(s.start, UTC).hour: ((s.end - s.start) // 60, s.resource_ids)
        for s in result.slots
    }


def test_availability_gives_each_resource_its_own_length(world_a):
    ana, ben = world_a.stylist.pk, world_a.stylist2.pk
    assert slots(world_a)[8] == (60, (ana,)) and slots(world_a)[9] == (60, (ana,))
    override_ana(world_a, duration_minutes=90)
    got = slots(world_a)
    assert got[8] == (90, (ana,))  # 08:00-09:30, before Ana's 10:00 appointment
    assert got[9] == (60, (ben,))  # Ana's 90 minutes would reach her 10:00 appointment
    assert got[18] == (90, (ana,)) and got[19] == (60, (ben,))  # both work until 20:00


def test_booking_takes_the_price_and_length_of_the_resource_it_holds(world_a, api):
    override_ana(world_a, duration_minutes=90, price=Decimal("55.00"))
    client = api(HOST_A, world_a.owner)
    body = {"service": str(world_a.cut.public_id), "customer": str(world_a.customer.public_id)}
    with_ana = client.post(
        "/api/appointments/", {**body, "starts_at": world_a.at(14).isoformat()}, format="json"
    ).json()
    assert with_ana["price"] == "55.00" and with_ana["resources"][0]["name"] == "Ana (stylist)"
    assert datetime.fromisoformat(with_ana["ends_at"]) == world_a.at(15, 30)
    hold = Allocation.objects.get(appointment__public_id=with_ana["id"])
    assert hold.ends_at == world_a.at(15, 30)
    with_ben = client.post(
        "/api/appointments/",
        {**body, "starts_at": world_a.at(14).isoformat(),
         "resources": [str(world_a.stylist2.public_id)]},
        format="json",
    ).json()  # fmt: skip
    assert with_ben["price"] == "40.00"
    assert datetime.fromisoformat(with_ben["ends_at"]) == world_a.at(15)


def test_several_resources_with_their_own_take_the_highest_price_and_longest_length(world_a, api):
    service_update(
        service=world_a.treatment, actor=world_a.owner,
        resource_overrides=[
            {"resource": world_a.stylist, "price": Decimal("90.00")},
            {"resource": world_a.room, "price": Decimal("80.00"), "duration_minutes": 45},
        ],
    )  # fmt: skip
    booked = api(HOST_A, world_a.owner).post(
        "/api/appointments/",
        {"service": str(world_a.treatment.public_id), "customer": str(world_a.customer.public_id),
         "starts_at": world_a.at(15).isoformat(),
         "resources": [str(world_a.stylist.public_id), str(world_a.room.public_id)]},
        format="json",
    ).json()  # fmt: skip
    assert booked["price"] == "90.00"
    assert datetime.fromisoformat(booked["ends_at"]) == world_a.at(15, 45)


def test_staff_book_at_their_resources_price_and_may_not_set_another(world_a, api):
    override_ana(world_a, price=Decimal("55.00"))
    client = api(HOST_A, world_a.staff)  # Ana's own account
    body = {
        "service": str(world_a.cut.public_id), "customer": str(world_a.customer.public_id),
        "resources": [str(world_a.stylist.public_id)],
    }  # fmt: skip
    cheaper = client.post(
        "/api/appointments/",
        {**body, "starts_at": world_a.at(14).isoformat(), "price": "40.00"},
        format="json",
    )
    assert cheaper.status_code == 403 and cheaper.json()["error"]["code"] == "price_not_allowed"
    same = client.post(
        "/api/appointments/",
        {**body, "starts_at": world_a.at(14).isoformat(), "price": "55.00"},
        format="json",
    )
    assert same.status_code == 201 and same.json()["price"] == "55.00"


def test_owners_and_managers_manage_overrides_through_the_service(world_a, api):
    url = f"/api/services/{world_a.cut.public_id}/"
    stylist = str(world_a.stylist.public_id)
    patched = api(HOST_A, world_a.manager).patch(
        url, {"resource_overrides": [{"resource": stylist, "price": "55.00",
                                      "duration_minutes": 90}]},
        format="json",
    )  # fmt: skip
    assert patched.status_code == 200, patched.json()
    assert patched.json()["resource_overrides"] == [
        {"resource": stylist, "price": "55.00", "duration_minutes": 90}
    ]
    assert (
        api(HOST_A, world_a.customer_user).get(url).json()["resource_overrides"][0]["price"]
        == "55.00"
    )  # customers see what they will pay
    refused = api(HOST_A, world_a.staff).patch(url, {"resource_overrides": []}, format="json")
    assert refused.status_code == 403
    # Requirements that no longer hold Ana drop her override.
    changed = api(HOST_A, world_a.owner).patch(
        url,
        {"requirements": [{"resource_type": "STAFF",
                           "eligible_resources": [str(world_a.stylist2.public_id)]}]},
        format="json",
    )  # fmt: skip
    assert changed.status_code == 200 and changed.json()["resource_overrides"] == []
    assert not ServiceResourceOverride.objects.filter(service=world_a.cut).exists()


@pytest.mark.parametrize(
    "overrides",
    [
        [{"resource": "room", "price": "1.00"}],  # the room is not eligible for a haircut
        [{"resource": "stylist", "price": "1.00"}, {"resource": "stylist", "price": "2.00"}],
        [{"resource": "stylist"}],  # changes nothing
        [{"resource": "stylist", "duration_minutes": 0}],
        [{"resource": "stylist", "price": "-1.00"}],
    ],
)
def test_bad_overrides_are_400_naming_the_field(world_a, api, overrides):
    ids = {"room": world_a.room.public_id, "stylist": world_a.stylist.public_id}
    body = [{**o, "resource": str(ids[o["resource"]])} for o in overrides]
    response = api(HOST_A, world_a.owner).patch(
        f"/api/services/{world_a.cut.public_id}/", {"resource_overrides": body}, format="json"
    )
    assert response.status_code == 400, response.json()
    fields = response.json()["error"]["fields"]
    assert any(name.startswith("resource_overrides") for name in fields), fields
    assert not ServiceResourceOverride.objects.filter(service=world_a.cut).exists()
