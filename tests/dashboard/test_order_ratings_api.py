"""Families rate a completed service order as they rate a visit: only once it is done, only
their own elder's, and the family page's list of completed services carries their rating."""

from __future__ import annotations

from tests.dashboard.conftest import World, error_code

STAFF, FAM = "station_staff.a", "family.a"
HOME = {"lat": 31.2, "lon": 121.5}


def finish(world: World, oid: str = "ord-a") -> None:
    for step, body in (("accept", None), ("arrive", HOME), ("done", {"notes": "已送达"})):
        r = world.client.post(f"/api/orders/{oid}/{step}", json=body, headers=world.as_user(STAFF))
        assert r.status_code == 200, r.text


def completed(world: World, user: str, resident: str = "r-a") -> list[dict[str, object]]:
    r = world.client.get(f"/api/residents/{resident}/completed-orders",
                         headers=world.as_user(user))  # fmt: skip
    assert r.status_code == 200, r.text
    items: list[dict[str, object]] = r.json()["items"]
    return items


def test_a_done_order_is_rated_by_its_family(world: World) -> None:
    url = "/api/ratings/order/ord-a"
    r = world.client.put(url, json={"score": 4}, headers=world.as_user(FAM))
    assert (r.status_code, error_code(r)) == (409, "not_done")
    assert completed(world, FAM) == []
    finish(world)
    r = world.client.put(url, json={"score": 6}, headers=world.as_user(FAM))
    assert (r.status_code, error_code(r)) == (422, "validation_error")
    r = world.client.put(url, json={"score": 5, "comment": "饭菜还热"}, headers=world.as_user(FAM))
    assert r.status_code == 200, r.text
    got = r.json()
    assert (got["subject_kind"], got["resident_id"], got["station_id"]) == ("order", "r-a", "st-a")
    # another family, another station's staff: not theirs; staff do not rate
    assert world.client.put(url, json={"score": 1},
                            headers=world.as_user("family.b")).status_code == 404  # fmt: skip
    assert world.client.put(url, json={"score": 1},
                            headers=world.as_user(STAFF)).status_code == 403  # fmt: skip
    r = world.client.put("/api/ratings/order/nope", json={"score": 1}, headers=world.as_user(FAM))
    assert (r.status_code, error_code(r)) == (404, "not_found")
    ratings = world.client.get("/api/ratings", params={"subject_kind": "order"},
                               headers=world.as_user("station_supervisor.a")).json()  # fmt: skip
    assert [(x["subject_id"], x["score"], x["comment"]) for x in ratings] == [
        ("ord-a", 5, "饭菜还热")]  # fmt: skip


def test_completed_orders_list_the_latest_done_with_my_rating(world: World) -> None:
    finish(world)
    [item] = completed(world, FAM)
    assert (item["id"], item["kind"], item["service_name"], item["worker_name"]) == (
        "ord-a", "meal_delivery", "送餐", "护理员a")  # fmt: skip
    assert item["done_at"] == world.clock() and item["ratings"] == []
    assert "price_cents" not in item and "notes" not in item
    world.client.put("/api/ratings/order/ord-a", json={"score": 3}, headers=world.as_user(FAM))
    assert [x["score"] for x in completed(world, FAM)[0]["ratings"]] == [3]  # type: ignore[union-attr,index]
    assert len(completed(world, "station_supervisor.a")) == 1
    assert completed(world, "family.b", "r-b") == []
    r = world.client.get("/api/residents/r-a/completed-orders",
                         headers=world.as_user("family.b"))  # fmt: skip
    assert r.status_code == 404
    r = world.client.get("/api/residents/r-a/completed-orders", params={"limit": 0},
                         headers=world.as_user(FAM))  # fmt: skip
    assert (r.status_code, error_code(r)) == (422, "validation_error")
