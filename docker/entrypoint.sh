#!/bin/sh
# Entry point of the shrinkage image. Docker secrets arrive as files; Dagster's PostgreSQL
# storage only reads its password from the environment, so it is exported here from
# DAGSTER_PG_PASSWORD_FILE (the application reads DB_PASSWORD_FILE itself and needs nothing).
set -eu

if [ -n "${DAGSTER_PG_PASSWORD_FILE:-}" ]; then
    if [ ! -s "$DAGSTER_PG_PASSWORD_FILE" ]; then
        echo "entrypoint: DAGSTER_PG_PASSWORD_FILE=$DAGSTER_PG_PASSWORD_FILE is missing or empty:" \
             "set DAGSTER_PG_PASSWORD in .env (see docker/.env.example)" >&2
        exit 64
    fi
    DAGSTER_PG_PASSWORD="$(cat "$DAGSTER_PG_PASSWORD_FILE")"
    export DAGSTER_PG_PASSWORD
fi

exec "$@"
