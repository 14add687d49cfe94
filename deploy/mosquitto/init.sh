#!/bin/sh
# One-shot set-up of the broker volume (compose service `mosquitto-init`): on first start,
# create the dynamic-security file with its admin account; every time, give the volume to
# the user Mosquitto runs as (otherwise account changes live in memory only and vanish on
# restart).
set -eu
FILE=/mosquitto/data/dynamic-security.json
if [ ! -s "$FILE" ]; then
    : "${MOSQUITTO_ADMIN_PASSWORD:?set MOSQUITTO_ADMIN_PASSWORD in .env}"
    mosquitto_ctrl dynsec init "$FILE" admin "$MOSQUITTO_ADMIN_PASSWORD"
    echo "created $FILE with the admin account"
fi
chown -R mosquitto:mosquitto /mosquitto/data
chmod 600 "$FILE"
