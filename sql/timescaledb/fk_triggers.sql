-- Foreign keys that point AT a hypertable, kept as triggers.
--
-- PostgreSQL needs a unique index on the referenced column alone, and a hypertable can only
-- have unique indexes that include its time column, so `REFERENCES calculation_data(id)`
-- cannot exist once calculation_data is a hypertable. These two generic functions give the
-- same guarantees: the child side refuses an id the parent does not have (SQLSTATE 23503,
-- the code a real foreign key raises), the parent side cascades or nulls on delete.
-- Arguments come from CREATE TRIGGER (see shrinkage.db.timeseries.TRIGGER_FOREIGN_KEYS).

-- BEFORE INSERT OR UPDATE on the child. TG_ARGV: child column, parent table, parent column.
CREATE OR REPLACE FUNCTION shrinkage_fk_check_parent() RETURNS trigger
LANGUAGE plpgsql AS $fn$
DECLARE
    child_value bigint := (to_jsonb(NEW) ->> TG_ARGV[0])::bigint;
    present boolean;
BEGIN
    IF child_value IS NULL THEN
        RETURN NEW;
    END IF;
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I WHERE %I = $1)', TG_ARGV[1], TG_ARGV[2])
        INTO present USING child_value;
    IF NOT present THEN
        RAISE EXCEPTION 'insert or update on table "%" violates foreign key "%"', TG_TABLE_NAME, TG_NAME
            USING ERRCODE = 'foreign_key_violation',
                  DETAIL = format('Key (%s)=(%s) is not present in table "%s".', TG_ARGV[0], child_value, TG_ARGV[1]);
    END IF;
    RETURN NEW;
END
$fn$;

-- AFTER DELETE on the parent (a hypertable: row triggers reach every chunk).
-- TG_ARGV: child table, child column, 'cascade' or 'set null', parent column.
CREATE OR REPLACE FUNCTION shrinkage_fk_on_parent_delete() RETURNS trigger
LANGUAGE plpgsql AS $fn$
DECLARE
    parent_value bigint := (to_jsonb(OLD) ->> TG_ARGV[3])::bigint;
BEGIN
    IF TG_ARGV[2] = 'cascade' THEN
        EXECUTE format('DELETE FROM %I WHERE %I = $1', TG_ARGV[0], TG_ARGV[1]) USING parent_value;
    ELSE
        EXECUTE format('UPDATE %I SET %I = NULL WHERE %I = $1', TG_ARGV[0], TG_ARGV[1], TG_ARGV[1])
            USING parent_value;
    END IF;
    RETURN OLD;
END
$fn$;
