-- Plain PostgreSQL: REFRESH MATERIALIZED VIEW needs the view's owner, and the pipeline runs
-- as the application role (roles.sql), so the refresh is a SECURITY DEFINER function the
-- application role may execute. search_path is pinned so the function cannot be redirected.
CREATE OR REPLACE FUNCTION shrinkage_refresh_analytics() RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $fn$
BEGIN
    REFRESH MATERIALIZED VIEW agg_product_weekly;
    REFRESH MATERIALIZED VIEW agg_product_monthly;
    REFRESH MATERIALIZED VIEW agg_forecast_model_monthly;
END
$fn$;
