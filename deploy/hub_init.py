"""One-shot set-up of a compose deployment (service ``hub-init``): the hub's own broker
account, with the password from ``CAREHUB_MQTT_PASSWORD`` and the user of
``CAREHUB_MQTT_URL``, through the dynamic-security admin ``CAREHUB_BROKER_ADMIN_URL``.

Idempotent: on every run the role is brought up to date and the password set again, so
changing it in ``.env`` and running ``docker compose up -d`` again is enough. The
database schema is created by the hub itself when it starts.
"""

from __future__ import annotations

import os
import sys
import time
from urllib.parse import parse_qs, urlsplit

from hub.broker.admin import SyncBrokerAdmin
from hub.errors import CarehubError

ATTEMPTS = 10


def main() -> int:
    try:
        admin_url = os.environ["CAREHUB_BROKER_ADMIN_URL"]
        password = os.environ["CAREHUB_MQTT_PASSWORD"]
        url = urlsplit(os.environ["CAREHUB_MQTT_URL"])
        username = url.username
        # the hub's client id, when the URL names one, is reserved to the hub's account
        client_id = parse_qs(url.query).get("client_id", [None])[0]
    except KeyError as exc:
        print(f"hub-init: {exc.args[0]} is not set", file=sys.stderr)
        return 2
    if not username:
        print(
            "hub-init: CAREHUB_MQTT_URL names no user (mqtt://hub@mosquitto:1883)", file=sys.stderr
        )
        return 2
    for attempt in range(1, ATTEMPTS + 1):
        try:
            result = SyncBrokerAdmin(admin_url).hub_account(
                username, password, rotate=True, client_id=client_id
            )
        except CarehubError as exc:  # the broker may still be starting
            print(f"hub-init: attempt {attempt}: {exc}", file=sys.stderr)
            time.sleep(3)
            continue
        print(f"hub-init: broker account {username!r} {result}")
        return 0
    return 1


if __name__ == "__main__":
    sys.exit(main())
