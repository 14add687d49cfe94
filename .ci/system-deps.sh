#!/usr/bin/env bash
# Installs and starts what the test suite needs outside Python, when it is missing:
# Mosquitto (throwaway brokers), nats-server with JetStream (the cluster tests start their
# own), a PostgreSQL server on 127.0.0.1:5432, and Chromium with
# CJK fonts for the browser tests (Playwright drives /usr/bin/chromium; no downloaded browser).
# Works as root on Debian/Ubuntu; otherwise says what is missing and how to get it.
set -euo pipefail

need_pkgs=()
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || need_pkgs+=(mosquitto mosquitto-clients)
command -v pg_ctlcluster >/dev/null 2>&1 || need_pkgs+=(postgresql)
command -v nats-server >/dev/null 2>&1 || [ -x /usr/sbin/nats-server ] || need_pkgs+=(nats-server)
[ -x /usr/bin/chromium ] || need_pkgs+=(chromium)
# without CJK fonts Chinese text renders as empty boxes in the pages and screenshots
[ -d /usr/share/fonts/opentype/noto ] && ls /usr/share/fonts/opentype/noto/NotoSansCJK* >/dev/null 2>&1 \
    || need_pkgs+=(fonts-noto-cjk)

if [ ${#need_pkgs[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "system-deps: installing ${need_pkgs[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
    else
        echo "system-deps: missing Debian packages: ${need_pkgs[*]}" >&2
        echo "system-deps: install them (sudo apt-get install ${need_pkgs[*]}) or run as root" >&2
        exit 1
    fi
fi

# PostgreSQL: the tests create throwaway databases on the server named by
# CAREHUB_TEST_PG_URL (default postgresql://postgres@127.0.0.1:5432/postgres).
if [ -z "${CAREHUB_TEST_PG_URL:-}" ]; then
    if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
        if [ "$(id -u)" = 0 ] && command -v pg_ctlcluster >/dev/null 2>&1; then
            version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -1)
            if [ -z "$version" ]; then
                echo "system-deps: no PostgreSQL cluster found under /etc/postgresql" >&2
                exit 1
            fi
            echo "system-deps: starting PostgreSQL $version"
            pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
            for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
        fi
    fi
    if ! pg_isready -q -h 127.0.0.1 -p 5432; then
        echo "system-deps: PostgreSQL is not answering on 127.0.0.1:5432" >&2
        echo "system-deps: start it, or set CAREHUB_TEST_PG_URL to a server the tests may use" >&2
        exit 1
    fi
    # A fresh Debian cluster asks for a password on 127.0.0.1; the tests connect as the
    # postgres user without one. Allow that on loopback only, when we are root and it is not.
    if ! psql -h 127.0.0.1 -U postgres -d postgres -w -tAc 'select 1' >/dev/null 2>&1; then
        if [ "$(id -u)" = 0 ]; then
            hba=$(su postgres -c "psql -tAc 'show hba_file'" 2>/dev/null || true)
            if [ -n "$hba" ] && [ -f "$hba" ]; then
                echo "system-deps: allowing trust auth for postgres on 127.0.0.1 (test machine)"
                sed -i '1i host all postgres 127.0.0.1/32 trust' "$hba"
                su postgres -c "psql -tAc 'select pg_reload_conf()'" >/dev/null
            fi
        fi
        psql -h 127.0.0.1 -U postgres -d postgres -w -tAc 'select 1' >/dev/null 2>&1 || {
            echo "system-deps: cannot connect as postgres to 127.0.0.1 without a password;" >&2
            echo "system-deps: set CAREHUB_TEST_PG_URL=postgresql://USER:PASS@HOST/DB" >&2
            exit 1
        }
    fi
fi
echo "system-deps: ok"
