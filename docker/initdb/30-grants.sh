#!/usr/bin/env bash
# First start of the database volume only, after sql/roles.sql (mounted as 20-shrinkage-roles.sql)
# created the group roles in the application database (POSTGRES_DB): hand them to the login
# users of 10-databases.sh, the same grants as `shrinkage db roles --grant owner=… --grant app=…
# --grant reporting=…` (the database image has no Python to run that command).
set -Eeuo pipefail

psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
     -v db="$POSTGRES_DB" -v migrator="$DB_MIGRATOR_USER" -v app="$DB_APP_USER" \
     -v reporting="$DB_REPORTING_USER" <<'SQL'
SELECT format('GRANT shrinkage_owner TO %I', :'migrator') \gexec
-- What the migrator creates belongs to the owner role and picks up roles.sql's default privileges.
SELECT format('ALTER ROLE %I SET role = %L', :'migrator', 'shrinkage_owner') \gexec
SELECT format('GRANT shrinkage_app TO %I', :'app') \gexec
SELECT format('GRANT shrinkage_reporting TO %I', :'reporting') \gexec
-- Only the three roles connect to the application database (not Dagster's user, not PUBLIC).
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', :'db') \gexec
SELECT format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO shrinkage_owner, shrinkage_app, shrinkage_reporting', :'db') \gexec
SQL
