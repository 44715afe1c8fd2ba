-- The shrinkage curve S(t) as immutable SQL functions (PostgreSQL / TimescaleDB), so a BI
-- tool can evaluate the models and the expected loss of the stock in plain SQL.
-- SQLite gets the same names per connection (shrinkage.db.curve_functions). The formulas
-- are those of shrinkage/modeling/curves.py: t < 0 counts as 0, S is capped at ${max_fraction}.
-- Each body is one SELECT expression (no STRICT, no SET, no FROM) so the planner inlines
-- it into the calling query. NULL in -> NULL out is checked up front, because least()
-- skips NULLs. Placeholders: schema (qualifies the inner calls, so the bodies do not
-- depend on the caller's search_path) and max_fraction.

-- S(t) of one family; a, b, c by position (the family's parameter names in that order:
-- exp_linear a b c, linear a, power a b, logarithmic a b, quadratic a b).
-- NULL for an unknown family or when a parameter the family needs is NULL.
CREATE OR REPLACE FUNCTION shrinkage_curve(family text, a double precision, b double precision,
                                           c double precision, t double precision)
RETURNS double precision LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
SELECT CASE
    WHEN family IS NULL OR family NOT IN ('exp_linear', 'linear', 'power', 'logarithmic', 'quadratic')
         OR a IS NULL OR t IS NULL OR (b IS NULL AND family <> 'linear')
         OR (c IS NULL AND family = 'exp_linear') THEN NULL
    ELSE least(${max_fraction}, CASE family
        -- e^(-x) < 2^-54 leaves 1 - e^(-x) = 1 in double precision, and exp() of a very
        -- negative number raises "underflow" on PostgreSQL: large b t takes the limit a.
        WHEN 'exp_linear' THEN CASE WHEN b * greatest(t, 0) > 50 THEN a
                                    ELSE a * (1 - exp(-b * greatest(t, 0))) END + c * greatest(t, 0)
        WHEN 'linear' THEN a * greatest(t, 0)
        WHEN 'power' THEN a * power(greatest(t, 0), b)
        WHEN 'logarithmic' THEN a * ln(1 + b * greatest(t, 0))
        WHEN 'quadratic' THEN a * greatest(t, 0) + b * greatest(t, 0) * greatest(t, 0)
    END)
END
$fn$;

-- The main family: S(t) = a (1 - e^(-b t)) + c t.
CREATE OR REPLACE FUNCTION shrinkage_curve(a double precision, b double precision,
                                           c double precision, t double precision)
RETURNS double precision LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
SELECT ${schema}.shrinkage_curve('exp_linear', a, b, c, t)
$fn$;

-- kg a batch of `quantity` kg, `age_days` old, loses over the next `horizon_days`:
-- B (S(t + N) - S(t)) / (1 - S(t)). Summed over the stock on hand it is a product's forecast.
CREATE OR REPLACE FUNCTION shrinkage_batch_loss(family text, a double precision, b double precision,
                                                c double precision, quantity double precision,
                                                age_days double precision, horizon_days double precision)
RETURNS double precision LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
SELECT quantity * (${schema}.shrinkage_curve(family, a, b, c, age_days + horizon_days)
                   - ${schema}.shrinkage_curve(family, a, b, c, age_days))
       / (1 - ${schema}.shrinkage_curve(family, a, b, c, age_days))
$fn$;
