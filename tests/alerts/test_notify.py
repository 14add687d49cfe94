"""Notifications through real local endpoints: signed webhooks checked by an in-test HTTP
server, e-mail through aiosmtpd, apprise's json:// to a local server."""

from __future__ import annotations

import email
import email.policy
import json
import threading
import time
from collections.abc import Iterator
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from alerts.escalation import default_policy
from alerts.notify import Dispatcher, OutMessage, redact
from alerts.notify.apprise_sender import AppriseSender
from alerts.notify.webhook import (
    IDEMPOTENCY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    WebhookSender,
    parse_channel,
    verify,
)
from alerts.runner import AlertRunner
from hub.broker.embedded import free_port
from hub.store.base import Contact
from hub.store.sqlite import SqliteStore

from .conftest import T0, finding, make_engine

SECRET = "s3cret/with:odd@chars"


class Receiver:
    """A local HTTP endpoint recording requests; answers with the next queued status."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        self.statuses: list[int] = []
        self.got = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append((self.path, dict(self.headers), body))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()
                receiver.got.set()

            def log_message(self, *args: Any) -> None:
                pass

        self.port = free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as r:
        yield r


def quote(secret: str) -> str:
    from urllib.parse import quote as q

    return q(secret, safe="")


def test_channel_parsing_and_redaction() -> None:
    url = f"hmac://{quote(SECRET)}@127.0.0.1:8080/hook?x=1"
    assert parse_channel(url) == ("http://127.0.0.1:8080/hook?x=1", SECRET.encode())
    assert parse_channel("hmacs://k@h.example/p")[0] == "https://h.example/p"
    assert "s3cret" not in redact(url)


async def test_signed_webhook_end_to_end_with_retry(store: SqliteStore, receiver: Receiver) -> None:
    hook = f"hmac://{quote(SECRET)}@127.0.0.1:{receiver.port}/carehub"
    policy = default_policy("st-1", {"station": (hook,), "supervisor": (), "district": ()})
    store.set_escalation_policy("st-1", policy.model_dump(), T0)
    engine = make_engine(store)
    sender = WebhookSender(timeout_s=5)
    runner = AlertRunner(engine, Dispatcher(sender, AppriseSender()))
    receiver.statuses = [500]  # the first delivery fails, the retry succeeds
    engine.on_finding(finding("fall", peak_g=3.3), time.time())
    await runner.run_once()
    await runner.run_once(time.time() + 3)  # past the first back-off (2 s)
    await sender.aclose()
    assert len(receiver.requests) == 2
    keys = {h[IDEMPOTENCY_HEADER] for _, h, _ in receiver.requests}
    assert len(keys) == 1  # the retry carries the same idempotency key
    for path, headers, body in receiver.requests:
        assert path == "/carehub"
        assert verify(SECRET.encode(), headers[TIMESTAMP_HEADER], body, headers[SIGNATURE_HEADER],
                      now=time.time())  # fmt: skip
        assert not verify(b"wrong", headers[TIMESTAMP_HEADER], body, headers[SIGNATURE_HEADER],
                          now=time.time())  # fmt: skip
    payload = json.loads(receiver.requests[-1][2])
    assert payload["alert"]["kind"] == "fall"
    assert payload["alert"]["evidence"] == {"peak_g": 3.3}
    assert payload["link"].startswith("https://hub.example/alerts/al-")
    assert "王阿姨" in payload["title"]
    alert_id = payload["alert"]["id"]
    acts = [e.action for e in engine.timeline(alert_id=alert_id)]
    assert acts.count("notify_failed") == 1 and acts.count("notified") == 1
    failed = next(e for e in engine.timeline(alert_id=alert_id) if e.action == "notify_failed")
    assert failed.detail["error"] == "webhook: HTTP 500"
    assert SECRET not in json.dumps(failed.detail)


async def test_apprise_json_to_a_local_endpoint(receiver: Receiver) -> None:
    sender = AppriseSender()
    msg = OutMessage("k-1", "【高】跌倒 - 王阿姨", "地点: 潍坊路 1 号", "zh-CN")
    await sender.send(f"json://127.0.0.1:{receiver.port}/apprise", msg)
    (path, _, body) = receiver.requests[0]
    data = json.loads(body)
    assert path == "/apprise"
    assert (data["title"], data["message"]) == (msg.title, msg.body)


@pytest.mark.allow_error_logs  # apprise itself logs the unparseable URL as an error
async def test_apprise_refuses_an_unknown_url() -> None:
    from alerts.notify import DeliveryError

    with pytest.raises(DeliveryError, match="does not understand"):
        await AppriseSender().send("nosuchscheme://x", OutMessage("k", "t", "b", "en"))


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append(parsed)  # type: ignore[arg-type]
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    box = Mailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


async def test_family_email_through_aiosmtpd(store: SqliteStore, smtp: tuple[Mailbox, int]) -> None:
    box, port = smtp
    mail = f"mailto://127.0.0.1:{port}?from=hub@example.com&to=daughter@example.com&mode=insecure"
    store.add_contact(Contact("c-9", "r-2", "李女士", channels=(mail,),
                              prefs={"language": "en", "min_priority": "low"}))  # fmt: skip
    engine = make_engine(store)
    runner = AlertRunner(engine, Dispatcher(WebhookSender(), AppriseSender()))
    engine.on_finding(finding("sos", device="w-2", resident="r-2"), T0)
    await runner.run_once(T0)
    engine.tick(T0 + 180)  # the family round of a high alert
    await runner.run_once(T0 + 180)
    assert len(box.messages) == 1
    msg = box.messages[0]
    assert msg["To"] == "daughter@example.com"
    assert msg["Subject"] == "[HIGH] SOS call – 李伯伯"
    text = msg.get_body(preferencelist=("plain",))
    assert text is not None and "Resident: 李伯伯" in text.get_content()
