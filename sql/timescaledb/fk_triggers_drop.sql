DROP FUNCTION IF EXISTS shrinkage_fk_check_parent() CASCADE;
DROP FUNCTION IF EXISTS shrinkage_fk_on_parent_delete() CASCADE;
