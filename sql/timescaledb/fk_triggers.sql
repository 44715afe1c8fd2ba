-- Foreign keys that point AT a hypertable, kept as triggers.
--
-- PostgreSQL needs a unique index on the referenced column alone, and a hypertable can only
-- have unique indexes that include its time column, so `REFERENCES calculation_data(id)`
-- cannot exist once calculation_data is a hypertable. These two generic functions give the
-- same guarantees: the child side refuses an id the parent does not have (SQLSTATE 23503,
-- the code a real foreign key raises), the parent side cascades or nulls on delete.
-- Arguments come from CREATE TRIGGER (see shrinkage.db.timeseries.TRIGGER_FOREIGN_KEYS).

-- BEFORE INSERT OR UPDATE on the child. TG_ARGV: child column, parent table, parent column,
-- then, for a composite key, one more (child column, parent column) pair per further column.
CREATE OR REPLACE FUNCTION shrinkage_fk_check_parent() RETURNS trigger
LANGUAGE plpgsql AS $fn$
DECLARE
    child_row jsonb := to_jsonb(NEW);
    child_values bigint[] := ARRAY[(child_row ->> TG_ARGV[0])::bigint];
    child_columns text := TG_ARGV[0];
    condition text := format('%I = $1[1]', TG_ARGV[2]);
    present boolean;
BEGIN
    IF child_values[1] IS NULL THEN
        RETURN NEW;
    END IF;
    FOR pair IN 1 .. (TG_NARGS - 3) / 2 LOOP
        child_values := child_values || (child_row ->> TG_ARGV[1 + 2 * pair])::bigint;
        child_columns := child_columns || ', ' || TG_ARGV[1 + 2 * pair];
        condition := condition || format(' AND %I = $1[%s]', TG_ARGV[2 + 2 * pair], pair + 1);
    END LOOP;
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I WHERE %s)', TG_ARGV[1], condition)
        INTO present USING child_values;
    IF NOT present THEN
        RAISE EXCEPTION 'insert or update on table "%" violates foreign key "%"', TG_TABLE_NAME, TG_NAME
            USING ERRCODE = 'foreign_key_violation',
                  DETAIL = format('Key (%s)=(%s) is not present in table "%s".', child_columns,
                                  array_to_string(child_values, ', ', 'NULL'), TG_ARGV[1]);
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
