"""The ``carehub`` command line (typer): run the hub, manage the registry, inspect refusals.

Every registry command works on the store named by ``--db`` or ``CAREHUB_DATABASE_URL``
(default: SQLite in ``./data``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import subprocess
import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from carehub.cli_support import DbOpt, cli_store
from hub.errors import CarehubError
from hub.settings import HubSettings
from hub.store.base import City, Contact, Device, District, Resident, Station, Store

app = typer.Typer(
    name="carehub",
    help="carehub: a monitoring hub for home- and community-based elderly care.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
city_app = typer.Typer(help="Cities (市).", no_args_is_help=True)
district_app = typer.Typer(help="Districts and counties (区/县).", no_args_is_help=True)
ZONE_HELP = "IANA time zone, e.g. Asia/Shanghai (default: CAREHUB_DEFAULT_TIMEZONE)."
station_app = typer.Typer(help="Stations (养老服务站, day-care centres, mutual-aid homes).")
resident_app = typer.Typer(help="Residents and their contacts.", no_args_is_help=True)
device_app = typer.Typer(help="Devices: provisioning, credentials, unclaimed ids.")
import_app = typer.Typer(help="CSV import of a station's residents and devices.")
db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)
app.add_typer(city_app, name="city")
app.add_typer(district_app, name="district")
app.add_typer(station_app, name="station", no_args_is_help=True)
app.add_typer(resident_app, name="resident")
app.add_typer(device_app, name="device", no_args_is_help=True)
app.add_typer(import_app, name="import", no_args_is_help=True)
app.add_typer(db_app, name="db")

out = Console()
err = Console(stderr=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def _store(db: str | None) -> contextlib.AbstractContextManager[Store]:
    return cli_store(db)


def _table(rows: list[Any], columns: list[str], as_json: bool, title: str | None = None) -> None:
    if as_json:
        out.print_json(json.dumps([asdict(r) for r in rows], ensure_ascii=False, default=str))
        return
    table = Table(*columns, title=title)
    for r in rows:
        d = asdict(r)
        table.add_row(*("" if d.get(c) is None else str(d.get(c)) for c in columns))
    out.print(table)


# --- serve -------------------------------------------------------------------------------


@app.command()
def serve(
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
    dashboard_only: Annotated[
        bool,
        typer.Option(
            "--dashboard-only",
            help="Only the dashboard (REST, console, /ws), fed by the store's change "
            "notifications: no MQTT ingest, no detectors (cluster mode; PostgreSQL).",
        ),
    ] = False,
) -> None:
    """Run the hub. With nothing configured: embedded MQTT broker and SQLite in ./data."""
    from carehub.dashboard_node import serve_dashboard
    from carehub.serve import serve as run

    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("amqtt", "transitions"):  # the embedded broker narrates every state change
        logging.getLogger(noisy).setLevel(logging.DEBUG if verbose else logging.WARNING)
    try:
        settings = HubSettings()
        asyncio.run(serve_dashboard(settings) if dashboard_only else run(settings))
    except KeyboardInterrupt:
        pass
    except CarehubError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc


HealthPort = Annotated[
    int | None,
    typer.Option(
        "--health-port", min=0, max=65535,
        help="Serve /healthz, /readyz and /metrics here (0: off; default CAREHUB_HEALTH_PORT).",
    ),
]  # fmt: skip


@app.command()
def bridge(
    bridge_id: Annotated[str | None, typer.Option("--id", help="MQTT client id")] = None,
    health_port: HealthPort = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Cluster mode: MQTT broker → JetStream partitions (CAREHUB_NATS_URL, CAREHUB_MQTT_URL)."""
    from carehub.cluster import run_bridge

    _cluster_run(lambda s: run_bridge(s, bridge_id=bridge_id), verbose, health_port)


@app.command()
def worker(
    worker_id: Annotated[str | None, typer.Option("--id", help="worker name (unique)")] = None,
    health_port: HealthPort = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Cluster mode: claim partitions, ingest, detect and alert (PostgreSQL only)."""
    from carehub.cluster import run_worker

    _cluster_run(lambda s: run_worker(s, worker_id=worker_id), verbose, health_port)


def _cluster_run(main: Any, verbose: bool, health_port: int | None = None) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("nats").setLevel(logging.WARNING)
    try:
        settings = HubSettings()
        if health_port is not None:
            settings = settings.model_copy(update={"health_port": health_port})
        asyncio.run(main(settings))
    except KeyboardInterrupt:
        pass
    except CarehubError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc


# --- hierarchy ---------------------------------------------------------------------------


@city_app.command("add")
def city_add(city_id: str, name: str, db: DbOpt = None) -> None:
    """Add a city."""
    from hub.registry.provisioning import check_id

    with _store(db) as store:
        store.add_city(City(check_id(city_id, "city id"), name))
    out.print(f"city {city_id} added")


@city_app.command("list")
def city_list(db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """List cities."""
    with _store(db) as store:
        _table(store.list_cities(), ["id", "name"], as_json)


@district_app.command("add")
def district_add(
    district_id: str,
    city: Annotated[str, typer.Option(help="City id.")],
    name: Annotated[str, typer.Option(help="Name, e.g. 浦东新区.")],
    kind: Annotated[str, typer.Option(help="district or county.")] = "district",
    db: DbOpt = None,
) -> None:
    """Add a district (区) or county (县) to a city."""
    from hub.registry.provisioning import check_id

    if kind not in ("district", "county"):
        raise typer.BadParameter("kind is district or county")
    with _store(db) as store:
        store.add_district(District(check_id(district_id), city, name, kind))  # type: ignore[arg-type]
    out.print(f"district {district_id} added")


@district_app.command("list")
def district_list(
    city: Annotated[str | None, typer.Option()] = None, db: DbOpt = None, as_json: JsonOpt = False
) -> None:
    """List districts and counties."""
    with _store(db) as store:
        _table(store.list_districts(city), ["id", "city_id", "name", "kind"], as_json)


@station_app.command("add")
def station_add(
    station_id: str,
    district: Annotated[str, typer.Option(help="District or county id.")],
    name: Annotated[str, typer.Option()],
    kind: Annotated[
        str, typer.Option(help="service_station, day_care or mutual_aid.")
    ] = "service_station",
    address: Annotated[str | None, typer.Option()] = None,
    lat: Annotated[float | None, typer.Option()] = None,
    lon: Annotated[float | None, typer.Option()] = None,
    timezone: Annotated[str | None, typer.Option(help=ZONE_HELP)] = None,
    db: DbOpt = None,
) -> None:
    """Add a station: 养老服务站 (service_station), day-care centre or mutual-aid home."""
    from hub.registry.provisioning import check_id

    if kind not in ("service_station", "day_care", "mutual_aid"):
        raise typer.BadParameter("kind is service_station, day_care or mutual_aid")
    zone = _zone(timezone)
    station = Station(check_id(station_id), district, name, kind, address, lat, lon, zone)  # type: ignore[arg-type]
    with _store(db) as store:
        store.add_station(station)
    out.print(f"station {station_id} added")


@station_app.command("set-timezone")
def station_set_timezone(
    station_id: str,
    timezone: Annotated[str | None, typer.Argument(help=f"{ZONE_HELP} Leave out to unset.")] = None,
    db: DbOpt = None,
) -> None:
    """Set the time zone of a station's quiet hours, night rules and message times."""
    import dataclasses

    zone = _zone(timezone)
    with _store(db) as store:
        store.update_station(dataclasses.replace(store.get_station(station_id), timezone=zone))
    out.print(f"station {station_id}: time zone {zone or 'CAREHUB_DEFAULT_TIMEZONE'}")


def _zone(name: str | None) -> str | None:
    from hub.timezones import UnknownTimezone, check_timezone

    try:
        return None if name is None else check_timezone(name)
    except UnknownTimezone as exc:
        raise typer.BadParameter(str(exc)) from exc


@station_app.command("list")
def station_list(
    district: Annotated[str | None, typer.Option()] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List stations."""
    with _store(db) as store:
        rows = store.list_stations(district)
        _table(rows, ["id", "district_id", "name", "kind", "timezone"], as_json)


# --- residents ---------------------------------------------------------------------------


@resident_app.command("add")
def resident_add(
    resident_id: str,
    station: Annotated[str, typer.Option(help="Station id.")],
    name: Annotated[str, typer.Option()],
    address: Annotated[str | None, typer.Option()] = None,
    lat: Annotated[float | None, typer.Option()] = None,
    lon: Annotated[float | None, typer.Option()] = None,
    birth_year: Annotated[int | None, typer.Option()] = None,
    spo2_scale: Annotated[
        int, typer.Option(min=1, max=2, help="NEWS2 SpO2 scale (2: hypercapnic failure).")
    ] = 1,
    db: DbOpt = None,
) -> None:
    """Add a resident to a station."""
    from hub.registry.provisioning import check_id

    clinical = {"spo2_scale": spo2_scale} if spo2_scale != 1 else {}
    resident = Resident(
        check_id(resident_id, "resident id"),
        station,
        name,
        address,
        lat,
        lon,
        birth_year,
        clinical=clinical,
    )
    with _store(db) as store:
        store.get_station(station)
        store.add_resident(resident)
    out.print(f"resident {resident_id} added to {station}")


@resident_app.command("list")
def resident_list(
    station: Annotated[str | None, typer.Option()] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List residents."""
    with _store(db) as store:
        rows = store.list_residents(station)
        _table(rows, ["id", "station_id", "name", "status", "address"], as_json)


@resident_app.command("status")
def resident_status(
    resident_id: str,
    status: Annotated[str, typer.Argument(help="home, away, hospital or inactive.")],
    db: DbOpt = None,
) -> None:
    """Mark a resident at home, away or in hospital (away/hospital silence activity alerts)."""
    if status not in ("home", "away", "hospital", "inactive"):
        raise typer.BadParameter("status is home, away, hospital or inactive")
    with _store(db) as store:
        resident = store.get_resident(resident_id)
        store.update_resident(replace(resident, status=status))  # type: ignore[arg-type]
    out.print(f"resident {resident_id} is now {status}")


@resident_app.command("contact")
def resident_contact(
    resident_id: str,
    name: Annotated[str, typer.Option()],
    relation: Annotated[str | None, typer.Option(help="e.g. daughter, neighbour.")] = None,
    phone: Annotated[str | None, typer.Option()] = None,
    channel: Annotated[
        list[str] | None,
        typer.Option(help="Notification channel (apprise URL); repeat for several."),
    ] = None,
    min_priority: Annotated[
        str, typer.Option(help="Notify from this priority up: high, medium or low.")
    ] = "medium",
    quiet_hours: Annotated[
        str | None,
        typer.Option(
            help="HH:MM-HH:MM local time without notifications (high priority still goes)."
        ),
    ] = None,
    language: Annotated[str, typer.Option(help="zh-CN or en.")] = "zh-CN",
    db: DbOpt = None,
) -> None:
    """Add a contact to notify for a resident, with their notification preferences."""
    from hub.registry.provisioning import contact_prefs

    with _store(db) as store:
        prefs = contact_prefs(min_priority=min_priority, quiet_hours=quiet_hours, language=language)
        store.get_resident(resident_id)
        n = len(store.list_contacts(resident_id)) + 1
        contact = Contact(
            f"{resident_id}-c{n}", resident_id, name, relation, phone, tuple(channel or ()), prefs
        )
        store.add_contact(contact)
    out.print(f"contact {contact.id} added")


# --- devices -----------------------------------------------------------------------------


def _broker_accounts() -> Any:
    """The broker admin (``hub.broker.admin.SyncBrokerAdmin``) when
    CAREHUB_BROKER_ADMIN_URL is set, else ``None``; call it inside ``_store`` so a bad URL
    is reported like any other error."""
    url = HubSettings().broker_admin_url
    if url is None:
        return None
    from hub.broker.admin import SyncBrokerAdmin

    return SyncBrokerAdmin(url.get_secret_value())


def _note_no_broker(what: str = "created") -> None:
    err.print(
        f"[yellow]note:[/yellow] broker credentials were not {what}; set "
        "CAREHUB_BROKER_ADMIN_URL to create them in Mosquitto's dynamic security"
    )


def _print_credentials(creds: Any, device: Device | None = None) -> None:
    from hub.contract.topics import device_topic

    out.print(f"[bold]MQTT credentials for {creds.device_id}[/bold] (shown once, not stored):")
    out.print(f"  username: {creds.username}")
    out.print(f"  password: {creds.password}")
    out.print(f"  client id: {creds.device_id}")
    gateway = device.gateway_id if device is not None else None
    if device is not None and device.kind == "gateway":
        gateway = device.id
    base = device_topic(creds.device_id, "{telemetry,event,status,reply}", gateway)
    out.print(f"  publish to: {base}", soft_wrap=True)
    if gateway is not None and gateway != creds.device_id:
        note = f"  (its gateway {gateway} publishes for it; docs/device-contract.md, §7)"
        out.print(note, soft_wrap=True)


@device_app.command("provision")
def device_provision(
    device_id: str,
    kind: Annotated[str, typer.Option(help="wearable, pendant, gateway, motion, door, ...")],
    resident: Annotated[str | None, typer.Option(help="Resident who wears/owns it.")] = None,
    gateway: Annotated[str | None, typer.Option(help="Gateway that speaks for it.")] = None,
    vendor: Annotated[str | None, typer.Option()] = None,
    model: Annotated[str | None, typer.Option()] = None,
    interval_s: Annotated[float | None, typer.Option(help="Expected telemetry interval.")] = None,
    worn_at: Annotated[
        str | None,
        typer.Option(help="Where a wearable is worn: wrist, waist, chest, neck (fall model)."),
    ] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Register a device and print its MQTT credentials once (only a hash is kept)."""
    from hub.registry.provisioning import provision_device

    device = Device(
        device_id,
        kind,
        vendor=vendor,
        model=model,
        resident_id=resident,
        gateway_id=gateway,
        interval_s=interval_s,
        created_at=time.time(),
        worn_at=worn_at,
    )
    with _store(db) as store:
        broker = _broker_accounts()
        creds = provision_device(store, device, broker)
    if as_json:
        out.print_json(json.dumps({**asdict(creds), "broker_account": broker is not None}))
        return
    _print_credentials(creds, device)
    if broker is None:
        _note_no_broker()


@device_app.command("claim")
def device_claim(
    device_id: str,
    kind: Annotated[str, typer.Option()],
    resident: Annotated[str | None, typer.Option()] = None,
    gateway: Annotated[str | None, typer.Option()] = None,
    db: DbOpt = None,
) -> None:
    """Provision a device that was seen on the broker but not provisioned."""
    with _store(db) as store:
        ids = {u.device_id for u in store.list_unprovisioned()}
    if device_id not in ids:
        err.print(f"[yellow]note:[/yellow] {device_id} was not seen on the broker")
    device_provision(device_id, kind, resident, gateway, db=db)


@device_app.command("rotate")
def device_rotate(device_id: str, db: DbOpt = None) -> None:
    """Give a device a new password; the old one stops working."""
    from hub.registry.provisioning import rotate_secret

    with _store(db) as store:
        broker = _broker_accounts()
        creds = rotate_secret(store, device_id, broker)
        device = store.get_device(device_id)
    _print_credentials(creds, device)
    if broker is None:
        _note_no_broker("updated")


@device_app.command("list")
def device_list(
    resident: Annotated[str | None, typer.Option()] = None,
    gateway: Annotated[str | None, typer.Option()] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List provisioned devices."""
    with _store(db) as store:
        rows = store.list_devices(resident_id=resident, gateway_id=gateway)
        cols = ["id", "kind", "vendor", "model", "firmware", "resident_id", "gateway_id"]
        _table(rows, cols, as_json)


@device_app.command("status")
def device_status(device_id: str, db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Online/offline history and last data of a device."""
    with _store(db) as store:
        state = store.get_device_state(device_id)
        history = store.status_history(device_id, limit=20)
    if as_json:
        payload = {"state": asdict(state), "history": [asdict(h) for h in history]}
        out.print_json(json.dumps(payload, default=str))
        return
    out.print(state)
    _table(history, ["online", "at", "source"], False, title="status history")


@device_app.command("ping")
def device_ping(
    device_id: str,
    wait: Annotated[float, typer.Option(help="Seconds to wait for the reply.")] = 10.0,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Send the `ping` command to a device and wait for its reply (proves the command path)."""
    from carehub.ping import broker_url, ping

    try:
        with _store(db) as store:
            device = store.get_device(device_id)
        result = asyncio.run(ping(device, broker_url(HubSettings()), wait_s=wait))
    except CarehubError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from exc
    if as_json:
        out.print_json(json.dumps(asdict(result)))
    elif result.status is None:
        out.print(f"ping {result.command_id} sent on {result.topic}; no reply within {wait:g} s")
    else:
        out.print(f"{device_id} answered {result.status!r} in {result.seconds} s")
    if result.status is None:
        raise typer.Exit(3)


@device_app.command("unclaimed")
def device_unclaimed(db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Devices seen on the broker that are not provisioned (to claim)."""
    with _store(db) as store:
        rows = store.list_unprovisioned()
        cols = ["device_id", "gateway_id", "first_seen", "last_seen", "count", "last_topic"]
        _table(rows, cols, as_json)


@app.command("deadletters")
def deadletters(
    device: Annotated[str | None, typer.Option()] = None,
    code: Annotated[str | None, typer.Option()] = None,
    limit: Annotated[int, typer.Option(min=1)] = 50,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Refused messages with their reason codes, newest first."""
    with _store(db) as store:
        rows = store.dead_letters(device_id=device, code=code, limit=limit)
        counts = store.count_dead_letters()
    if as_json:
        items = [
            {**asdict(r), "payload": r.payload.decode("utf-8", "backslashreplace")} for r in rows
        ]
        out.print_json(json.dumps({"counts": counts, "dead_letters": items}, default=str))
        return
    table = Table("id", "received", "code", "device", "topic", "detail", "payload")
    for r in rows:
        shown = r.payload[:60].decode("utf-8", "backslashreplace")
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(r.received_at))
        table.add_row(str(r.id), when, r.code, r.device_id or "", r.topic, r.detail, shown)
    out.print(table)
    out.print("by code: " + ", ".join(f"{k}={v}" for k, v in sorted(counts.items())))


# --- import ------------------------------------------------------------------------------


@import_app.command("residents")
def import_residents_cmd(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    station: Annotated[str, typer.Option(help="Station the residents belong to.")],
    db: DbOpt = None,
) -> None:
    """Import residents from CSV: id,name[,address,lat,lon,birth_year,status,spo2_scale,
    contact_name,contact_relation,contact_phone,contact_channels]. All or nothing."""
    from hub.registry.provisioning import import_residents

    with _store(db) as store:
        added = import_residents(store, station, file.read_text(encoding="utf-8"))
    out.print(f"{len(added)} residents imported into {station}")


@import_app.command("devices")
def import_devices_cmd(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    station: Annotated[str, typer.Option(help="Station whose residents own the devices.")],
    credentials_out: Annotated[
        Path, typer.Option(help="Where to write the one-time credentials CSV (mode 0600).")
    ],
    db: DbOpt = None,
) -> None:
    """Provision devices from CSV: id,kind[,vendor,model,firmware,resident_id,gateway_id,
    interval_s]. All or nothing; credentials go to a file readable only by you."""
    from hub.registry.provisioning import credentials_csv, import_devices

    if credentials_out.exists():
        raise typer.BadParameter(f"{credentials_out} exists; refusing to overwrite credentials")
    with _store(db) as store:
        broker = _broker_accounts()
        creds = import_devices(store, station, file.read_text(encoding="utf-8"), broker)
    credentials_out.touch(mode=0o600)
    credentials_out.write_text(credentials_csv(creds), encoding="utf-8")
    out.print(f"{len(creds)} devices provisioned; credentials written to {credentials_out}")
    if broker is None:
        _note_no_broker()


# --- broker accounts (Mosquitto dynamic security) ------------------------------------------

broker_app = typer.Typer(help="Broker accounts in Mosquitto's dynamic security.")
app.add_typer(broker_app, name="broker", no_args_is_help=True)


def _broker_admin_required() -> Any:
    broker = _broker_accounts()
    if broker is None:
        err.print(
            "[red]error:[/red] set CAREHUB_BROKER_ADMIN_URL "
            "(e.g. mqtt://admin:PASSWORD@broker:1883, the dynamic-security admin)"
        )
        raise typer.Exit(2)
    return broker


@broker_app.command("sync")
def broker_sync(
    rotate: Annotated[
        bool,
        typer.Option("--rotate", help="Give devices without a broker account a new password."),
    ] = False,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Create or update every device's broker role and list devices without a broker
    account (their passwords are not known); --rotate issues new ones, printed once."""
    from hub.registry.provisioning import rotate_secret

    with _store(db) as store:
        broker = _broker_admin_required()
        devices = store.list_devices()
        states = broker.sync_devices(devices)
        missing = [i for i, s in states.items() if s == "missing"]
        foreign = [i for i, s in states.items() if s == "foreign"]
        creds = [rotate_secret(store, i, broker) for i in missing] if rotate else []
    if as_json:
        payload = {"states": states, "credentials": [asdict(c) for c in creds]}
        out.print_json(json.dumps(payload))
        return
    out.print(f"{len(devices)} devices: roles up to date, {len(missing)} without a broker account")
    for device_id in foreign:
        err.print(f"[red]conflict:[/red] broker client {device_id} is not a carehub device")
    for c in creds:
        _print_credentials(c)
    if missing and not rotate:
        out.print("without a broker account: " + ", ".join(missing))
        out.print("run `carehub broker sync --rotate` to give them new passwords (printed once)")


@broker_app.command("hub-account")
def broker_hub_account(
    username: Annotated[str, typer.Option(help="The hub's MQTT username.")] = "hub",
    rotate: Annotated[
        bool, typer.Option("--rotate", help="Give an existing account a new password.")
    ] = False,
    client_id: Annotated[
        str | None,
        typer.Option(
            "--client-id",
            help="Bind the account to this MQTT client id (the hub's client_id; one hub "
            "node per account).",
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Create the hub's own broker account (reads carehub/v1/#, writes cmd, errors and
    hub status) and print its password once."""
    import secrets

    from hub.mqtt.settings import MqttSettings

    password = secrets.token_urlsafe(24)
    try:
        broker = _broker_admin_required()
        result = broker.hub_account(username, password, rotate=rotate, client_id=client_id)
        admin = MqttSettings.from_url(broker.url)
    except CarehubError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from exc
    shown = password if result != "exists" else None
    if as_json:
        out.print_json(json.dumps({"username": username, "result": result, "password": shown}))
        return
    if shown is None:
        out.print(f"hub account {username} exists (role updated); --rotate for a new password")
        return
    scheme = "mqtts" if admin.tls else "mqtt"
    out.print(f"[bold]hub account {username} {result}[/bold] (password shown once, not stored):")
    query = f"?client_id={client_id}" if client_id else ""
    out.print(f"  CAREHUB_MQTT_URL={scheme}://{username}@{admin.host}:{admin.port}{query}")
    out.print(f"  CAREHUB_MQTT_PASSWORD={password}")


@broker_app.command("dev")
def broker_dev(
    port: Annotated[int, typer.Option(help="Port to listen on (127.0.0.1).")] = 1884,
    directory: Annotated[
        Path, typer.Option("--dir", help="Where the broker keeps its files.")
    ] = Path("data/dev-broker"),
) -> None:
    """Run a local Mosquitto with per-device accounts, as in production (MQTT 5 refusals
    such as 0x87 included), until Ctrl-C; print what to give the hub."""
    from hub.broker.devbroker import DevBroker

    broker = DevBroker(directory, port=port)
    try:
        broker.start()
    except (CarehubError, OSError, subprocess.SubprocessError) as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from exc
    out.print(f"[bold]Mosquitto with per-device accounts on mqtt://127.0.0.1:{port}[/bold]")
    out.print("Run the hub and provision devices with (passwords shown once):")
    out.print(f"  export CAREHUB_MQTT_URL={broker.hub_url}")
    out.print(f"  export CAREHUB_MQTT_PASSWORD={broker.hub_password}")
    out.print(f"  export CAREHUB_BROKER_ADMIN_URL={broker.admin_url}")
    out.print("  carehub serve &  carehub device provision w-001 --kind wearable")
    out.print("Ctrl-C stops the broker; accounts stay in " + str(directory))
    try:
        broker.wait()
    except KeyboardInterrupt:
        pass
    finally:
        broker.stop()


@db_app.command("migrate")
def db_migrate(db: DbOpt = None) -> None:
    """Create or upgrade the database schema."""
    with _store(db) as store:  # open_store migrates
        out.print(f"{store.backend} schema is current")


def _register_optional() -> None:
    """Sub-apps that live in other packages (added as they exist)."""
    from carehub.cli_contract import contract_app

    app.add_typer(contract_app, name="contract", help="Device contract files (docs/).")
    from training.cli import eval_app

    app.add_typer(eval_app, name="eval", help="Evaluate detectors on recordings.")
    from carehub.cli_users import user_app

    app.add_typer(user_app, name="user", help="Dashboard users and API tokens.")
    from carehub.sim_commands import demo_cmd, eval_cmd, replay_cmd
    from device_sim.cli import sim_app

    sim_app.command("eval")(eval_cmd)
    sim_app.command("replay")(replay_cmd)
    sim_app.command("demo")(demo_cmd)
    app.add_typer(sim_app, name="sim", help="Simulated residents and devices; scoring.")


_register_optional()


def main() -> None:
    """Console-script entry point."""
    app()
