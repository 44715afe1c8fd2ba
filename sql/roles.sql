-- Three roles for a production database (run by `shrinkage db roles` as a superuser or the
-- database owner; never by a migration, so the application never needs DDL rights):
--   shrinkage_owner      owns the schema objects and runs migrations (`shrinkage db upgrade`)
--   shrinkage_app        the pipeline: read / write rows, use sequences, no DDL at all
--   shrinkage_reporting  read-only: reports, BI tools, analysts
-- They are NOLOGIN group roles: grant them to login users (`shrinkage db roles --grant
-- app=pipeline_user`), whose passwords are set outside this file (secret files / env).
-- A login user granted the owner role gets `SET role = shrinkage_owner`, so what its
-- migrations create belongs to the owner role and picks up the default privileges below.
-- Idempotent: safe to run again after every migration.

DO $roles$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'shrinkage_owner') THEN
        CREATE ROLE shrinkage_owner NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'shrinkage_app') THEN
        CREATE ROLE shrinkage_app NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'shrinkage_reporting') THEN
        CREATE ROLE shrinkage_reporting NOLOGIN;
    END IF;
END
$roles$;

-- Nobody but the owner creates objects in the schema.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE, CREATE ON SCHEMA public TO shrinkage_owner;
GRANT USAGE ON SCHEMA public TO shrinkage_app, shrinkage_reporting;

-- The owner owns every existing relation, sequence and function of the application
-- (ownership is what allows ALTER / DROP, so only migrations can change the schema).
-- A table's id sequence follows its table.
DO $owner$
DECLARE
    item record;
BEGIN
    FOR item IN
        SELECT c.relname, c.relkind FROM pg_class c
        WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm')
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')
    LOOP
        EXECUTE format('ALTER %s public.%I OWNER TO shrinkage_owner',
                       CASE item.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                                         ELSE 'TABLE' END, item.relname);
    END LOOP;
    FOR item IN
        SELECT p.oid::regprocedure AS signature FROM pg_proc p
        WHERE p.pronamespace = 'public'::regnamespace AND p.proname LIKE 'shrinkage\_%'
    LOOP
        EXECUTE format('ALTER FUNCTION %s OWNER TO shrinkage_owner', item.signature);
    END LOOP;
END
$owner$;

-- Existing objects.
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO shrinkage_app;
GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO shrinkage_app;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO shrinkage_app;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO shrinkage_reporting;

-- Objects the owner creates later (new migrations) get the same grants automatically.
ALTER DEFAULT PRIVILEGES FOR ROLE shrinkage_owner IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO shrinkage_app;
ALTER DEFAULT PRIVILEGES FOR ROLE shrinkage_owner IN SCHEMA public
    GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO shrinkage_app;
ALTER DEFAULT PRIVILEGES FOR ROLE shrinkage_owner IN SCHEMA public
    GRANT SELECT ON TABLES TO shrinkage_reporting;

-- The archive schema (`shrinkage db archive`), when it exists: readable by reports.
DO $archive$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'archive') THEN
        EXECUTE 'GRANT USAGE ON SCHEMA archive TO shrinkage_app, shrinkage_reporting';
        EXECUTE 'GRANT SELECT ON ALL TABLES IN SCHEMA archive TO shrinkage_app, shrinkage_reporting';
    END IF;
END
$archive$;
