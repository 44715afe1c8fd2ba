-- PL/Python functions that evaluate a product's model in force (created only where the
-- server has plpython3u and the migration runs as a superuser; see
-- shrinkage.db.curve_functions.create_plpython_functions). The model is the registry version
-- the view shrinkage_active_curves picks for the product (the active version of its model,
-- or the older one a rollback fell back to); its parameters are read from that version's
-- ml_model_registry.parameters ("products" -> id -> params).
-- Placeholders: schema (pinned search_path: an untrusted-language function must not be
-- redirected by the caller's), curve_python (the Python of shrinkage.db.curve_functions:
-- curve_value, batch_loss_value, product_model, pasted in so SQLite and PL/Python run the
-- same code).

-- S(t) of the product's model in force; NULL when the product has no fitted model.
CREATE OR REPLACE FUNCTION shrinkage_product_curve(nomenclature_id integer, t double precision)
RETURNS double precision LANGUAGE plpython3u STABLE STRICT
SET search_path = ${schema}, pg_temp AS $fn$
${curve_python}
model = product_model(plpy, SD, nomenclature_id)
return None if model is None else curve_value(*model, t)
$fn$;

-- kg the product's stock on hand (shrinkage_stock_on_hand) is expected to lose over the next
-- horizon_days under its model in force; 0 with nothing on hand, NULL without a fitted model.
CREATE OR REPLACE FUNCTION shrinkage_expected_loss(nomenclature_id integer, horizon_days double precision)
RETURNS double precision LANGUAGE plpython3u STABLE STRICT
SET search_path = ${schema}, pg_temp AS $fn$
${curve_python}
model = product_model(plpy, SD, nomenclature_id)
if model is None:
    return None
plan = SD.get("stock")
if plan is None:
    plan = SD["stock"] = plpy.prepare(
        "SELECT quantity, age_days FROM shrinkage_stock_on_hand WHERE nomenclature_id = $1",
        ["integer"])
return sum(batch_loss_value(*model, row["quantity"], row["age_days"], horizon_days)
           for row in plpy.execute(plan, [nomenclature_id]))
$fn$;
