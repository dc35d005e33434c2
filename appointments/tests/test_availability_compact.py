"""Availability that is cheap to send: the compact shape, ETag / 304 and gzip."""

from __future__ import annotations

import gzip
import json
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from appointments.api.availability import compact_shape, slots_shape
from appointments.availability import Slot, slot_groups
from appointments.selectors import availability_for
from appointments.services import appointment_book
from appointments.tests.test_availability import one_resource_service
from conftest import HOST_A

HOUR = 3600


@pytest.mark.parametrize(
    ("slots", "expected"),
    [
        ([], []),
        (
            [Slot(0, 60, (1,)), Slot(900, 960, (1,)), Slot(1800, 1860, (1,))],
            [((1,), 60, [(0, 3)])],
        ),
        (  # a gap on the grid starts a new run
            [Slot(0, 60, (1,)), Slot(1800, 1860, (1,)), Slot(2700, 2760, (1,))],
            [((1,), 60, [(0, 1), (1800, 2)])],
        ),
        (  # other resources: another group, whose runs go on across the first group's starts
            [Slot(0, 60, (1, 3)), Slot(900, 960, (2, 3)), Slot(1800, 1860, (1, 3))],
            [((1, 3), 60, [(0, 1), (1800, 1)]), ((2, 3), 60, [(900, 1)])],
        ),
        (  # a resource of its own duration
            [Slot(0, 5400, (4,)), Slot(900, 4500, (1,)), Slot(1800, 5400, (1,))],
            [((4,), 5400, [(0, 1)]), ((1,), 3600, [(900, 2)])],
        ),
    ],
)
def test_slot_groups_run_length_encode_starts_per_resource_set(slots, expected):
    got = [(g.resource_ids, g.duration, g.runs) for g in slot_groups(slots, step=900)]
    assert got == expected


def get(client, world, **params):
    query = {"service": str(world.cut.public_id), "start": str(world.day), "end": str(world.day)}
    query.update(params)
    headers = {k: query.pop(k) for k in list(query) if k.startswith("HTTP_")}
    return client.get("/api/availability/", query, **headers)


def expand(compact):
    """The compact answer as (start, end, resource ids) triples, like the slots shape's."""
    step = timedelta(minutes=compact["step_minutes"])
    triples = []
    for group in compact["groups"]:
        ids = tuple(compact["resources"][i]["id"] for i in group["resources"])
        length = timedelta(minutes=group["duration_minutes"])
        for run in group["runs"]:
            first = datetime.fromisoformat(run["first"])
            for k in range(run["count"]):
                triples.append((first + k * step, first + k * step + length, ids))
    return sorted(triples)


def test_compact_shape_holds_exactly_the_slots_of_the_default_shape(world_a, api):
    client = api(HOST_A, world_a.customer_user)
    end = str(world_a.day + timedelta(days=2))
    plain = get(client, world_a, end=end, service=str(world_a.treatment.public_id)).json()
    compact = get(
        client, world_a, end=end, service=str(world_a.treatment.public_id), shape="compact"
    ).json()
    assert set(plain) == {"service", "timezone", "slots", "closures"}
    assert compact["shape"] == "compact" and compact["step_minutes"] == 15
    slots = sorted(
        (
            datetime.fromisoformat(s["starts_at"]),
            datetime.fromisoformat(s["ends_at"]),
            tuple(r["id"] for r in s["resources"]),
        )
        for s in plain["slots"]
    )
    assert len(slots) > 100
    assert expand(compact) == slots
    names = {r["id"]: r["name"] for s in plain["slots"] for r in s["resources"]}
    assert {r["id"]: r["name"] for r in compact["resources"]} == names
    assert len(json.dumps(compact)) * 5 < len(json.dumps(plain))


def test_an_unknown_shape_is_a_400_naming_it(world_a, api):
    response = get(api(HOST_A, world_a.customer_user), world_a, shape="tiny")
    assert response.status_code == 400
    assert "shape" in response.json()["error"]["fields"]


@pytest.mark.parametrize("shape", ["slots", "compact"])
def test_a_matching_if_none_match_is_answered_304_until_availability_changes(world_a, api, shape):
    client = api(HOST_A, world_a.customer_user)
    first = get(client, world_a, shape=shape)
    tag = first["ETag"]
    assert first.status_code == 200 and tag.startswith('"')
    assert "no-cache" in first["Cache-Control"] and "private" in first["Cache-Control"]
    for held in (tag, f"W/{tag}", f'"other", {tag}'):
        again = get(client, world_a, shape=shape, HTTP_IF_NONE_MATCH=held)
        assert again.status_code == 304 and again.content == b""
        assert again["ETag"] == tag
    other_shape = "compact" if shape == "slots" else "slots"
    assert get(client, world_a, shape=other_shape, HTTP_IF_NONE_MATCH=tag).status_code == 200

    appointment_book(
        tenant=world_a.tenant, actor=world_a.owner, service=world_a.cut,
        customer=world_a.other_customer, starts_at=world_a.at(15), resources=[world_a.stylist],
    )  # fmt: skip
    changed = get(client, world_a, shape=shape, HTTP_IF_NONE_MATCH=tag)
    assert changed.status_code == 200 and changed["ETag"] != tag


def test_availability_is_gzipped_for_clients_that_accept_it_and_nothing_else_is(world_a, api):
    client = api(HOST_A, world_a.owner)
    end = str(world_a.day + timedelta(days=30))
    plain = get(client, world_a, end=end)
    zipped = get(client, world_a, end=end, HTTP_ACCEPT_ENCODING="gzip")
    assert "Content-Encoding" not in plain
    assert zipped["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in zipped["Vary"]
    assert json.loads(gzip.decompress(zipped.content)) == plain.json()
    assert len(zipped.content) * 5 < len(plain.content)
    # A zipped answer's tag (made weak by gzip) still revalidates.
    assert get(client, world_a, HTTP_ACCEPT_ENCODING="gzip").status_code == 200
    tag = get(client, world_a, HTTP_ACCEPT_ENCODING="gzip")["ETag"]
    assert get(client, world_a, HTTP_IF_NONE_MATCH=tag).status_code == 304
    # Answers that may carry secrets (tokens, names of the signed-in user) stay uncompressed.
    me = client.get("/api/me/", HTTP_ACCEPT_ENCODING="gzip")
    assert me.status_code == 200 and "Content-Encoding" not in me


@pytest.mark.parametrize(
    ("zone", "day"),
    [("Europe/Berlin", "2027-03-28"), ("Europe/Berlin", "2027-10-31")],
)
def test_compact_runs_stay_exact_across_a_dst_change(world_a, zone, day):
    tz = ZoneInfo(zone)
    _, service = one_resource_service(world_a, zone, hours=(time(0), time(6)))
    result = availability_for(
        service=service, date_from=date.fromisoformat(day), date_to=date.fromisoformat(day),
        tz=tz, now=datetime(2027, 1, 1, tzinfo=tz), step_minutes=30,
    )  # fmt: skip
    plain = slots_shape(result, tz)
    compact = compact_shape(result, tz, 30)
    slots = sorted(
        (datetime.fromisoformat(s["starts_at"]), datetime.fromisoformat(s["ends_at"]),
         tuple(r["id"] for r in s["resources"]))
        for s in plain["slots"]
    )  # fmt: skip
    assert len({start.utcoffset() for start, _, _ in slots}) == 2  # the night has both offsets
    assert expand(compact) == slots
    assert sum(len(g["runs"]) for g in compact["groups"]) == 1  # one run through the change
