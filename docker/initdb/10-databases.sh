#!/usr/bin/env bash
# First start of the database volume only (docker-entrypoint-initdb.d, as the superuser):
# the login users and the Dagster storage database. Runs after the image's own TimescaleDB
# scripts (000_*, 001_*) and before sql/roles.sql (20-*) and the grants (30-*).
#   DB_MIGRATOR_USER   runs `shrinkage db upgrade`; granted shrinkage_owner by 30-grants.sh
#   DB_APP_USER        the pipeline (Dagster code server and its runs); granted shrinkage_app
#   DB_REPORTING_USER  reports / BI, read-only; granted shrinkage_reporting
#   DAGSTER_PG_USER    owns DAGSTER_PG_DB, Dagster's run / event / schedule storage
# Passwords are read from the docker secret files named by the *_PASSWORD_FILE variables.
set -Eeuo pipefail

initdb_secret() {
    local variable="$1" file
    file="${!variable:-}"
    if [ -z "$file" ] || [ ! -s "$file" ]; then
        echo "initdb: $variable='${file}' is missing or empty: set the password in .env (docker/.env.example)" >&2
        return 1
    fi
    cat "$file"
}

initdb_login_user() {
    local name="$1" password="$2"
    psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --dbname postgres \
         -v name="$name" -v password="$password" <<'SQL'
SELECT format(CASE WHEN EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'name')
                   THEN 'ALTER ROLE %I LOGIN PASSWORD %L'
                   ELSE 'CREATE ROLE %I LOGIN PASSWORD %L' END, :'name', :'password') \gexec
SQL
}

initdb_login_user "$DB_MIGRATOR_USER" "$(initdb_secret DB_MIGRATOR_PASSWORD_FILE)"
initdb_login_user "$DB_APP_USER" "$(initdb_secret DB_APP_PASSWORD_FILE)"
initdb_login_user "$DB_REPORTING_USER" "$(initdb_secret DB_REPORTING_PASSWORD_FILE)"
initdb_login_user "$DAGSTER_PG_USER" "$(initdb_secret DAGSTER_PG_PASSWORD_FILE)"

# Dagster's database: owned by its user, from template0 so it carries no TimescaleDB extension,
# closed to everyone else (the application users never connect to it).
psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --dbname postgres \
     -v db="$DAGSTER_PG_DB" -v owner="$DAGSTER_PG_USER" <<'SQL'
SELECT format('CREATE DATABASE %I OWNER %I TEMPLATE template0', :'db', :'owner')
WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'db') \gexec
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', :'db') \gexec
SELECT format('GRANT ALL ON DATABASE %I TO %I', :'db', :'owner') \gexec
SQL
