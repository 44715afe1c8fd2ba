"""The shrinkage curve as a function inside the database, so SQL alone can evaluate a model.

- PostgreSQL / TimescaleDB: immutable SQL functions (``sql/curves/functions.sql``);
- SQLite: the same names registered on every connection the engine opens
  (:func:`register_sqlite_functions`, the engine's connect hook), evaluated by the Python
  below. Another SQLite client (a BI tool) must register them the same way to use the views
  that call them; the views of ``sql/analytics`` that do not call them stay usable anywhere;
- where the server has ``plpython3u``: PL/Python functions that evaluate the model in force
  of a product (``sql/curves/plpython.sql``). Their Python is the source of
  :func:`curve_value`, :func:`batch_loss_value` and :func:`product_model`, pasted in when they
  are created, so SQLite and PL/Python evaluate exactly the same code.

Families and formulas are those of ``shrinkage.modeling.curves`` (``db/`` does not import
``modeling/``; tests compare the three implementations with it on a grid of ages):
``exp_linear`` a(1 - e^(-bt)) + ct, ``linear`` at, ``power`` at^b, ``logarithmic`` a ln(1 + bt),
``quadratic`` at + bt^2 (b may be negative). As there, t < 0 counts as 0 and S is capped at
MAX_FRACTION. Parameters a, b, c are by position (``coefficient_a/b/c``, or ``fit_details``
``params``, which also holds a quadratic's negative b that the coefficient columns store as NULL).
"""

from __future__ import annotations

import inspect
import logging
import math
from string import Template

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from shrinkage.db.sqlfiles import read_sql

log = logging.getLogger(__name__)

# S is a fraction of the weight, capped below 1 (shrinkage.modeling.curves.MAX_FRACTION).
MAX_FRACTION = 0.95
# The families the SQL and the Python here know (shrinkage.modeling.curves.FAMILIES; a test
# fails when a family is added there and not here and in sql/curves/functions.sql).
CURVE_FAMILIES = ("exp_linear", "linear", "power", "logarithmic", "quadratic")
# name -> number of arguments, as created on PostgreSQL and registered on SQLite.
SQL_FUNCTIONS = {"shrinkage_curve": (4, 5), "shrinkage_batch_loss": (7,)}
PLPYTHON_FUNCTIONS = ("shrinkage_product_curve(integer, double precision)",
                      "shrinkage_expected_loss(integer, double precision)")
PLPYTHON = "plpython3u"
INSUFFICIENT_PRIVILEGE = "42501"


def curve_value(family, a, b, c, t):
    """S(t) of ``family`` with parameters a, b, c (None: a needed value is missing or the family is unknown)."""
    if t is None or a is None:
        return None
    d = t if t > 0 else 0.0
    if family == "exp_linear":
        if b is None or c is None:
            return None
        s = a * -math.expm1(-b * d) + c * d
    elif family == "linear":
        s = a * d
    elif family == "power":
        if b is None:
            return None
        s = a * d ** b
    elif family == "logarithmic":
        if b is None:
            return None
        s = a * math.log1p(b * d)
    elif family == "quadratic":
        if b is None:
            return None
        s = a * d + b * d * d
    else:
        return None
    return MAX_FRACTION if s > MAX_FRACTION else s


def batch_loss_value(family, a, b, c, quantity, age_days, horizon_days):
    """kg a batch of ``quantity`` kg aged ``age_days`` loses over ``horizon_days``: B (S(t+N) - S(t)) / (1 - S(t))."""
    if quantity is None or age_days is None or horizon_days is None:
        return None
    s0 = curve_value(family, a, b, c, age_days)
    s1 = curve_value(family, a, b, c, age_days + horizon_days)
    if s0 is None or s1 is None:
        return None
    return quantity * (s1 - s0) / (1.0 - s0)


def product_model(plpy, SD, nomenclature_id):
    """(family, a, b, c) of a product's model in force, inside PL/Python (None: no usable model).

    The registry version is the one ``shrinkage_active_curves`` picks; the parameters are that
    version's ``parameters -> 'products' -> id``, falling back to the coefficient row's
    ``fit_details`` (the view's a, b, c) for a version that does not list the product.
    """
    import json
    plan = SD.get("model")
    if plan is None:
        plan = SD["model"] = plpy.prepare(
            "SELECT v.family, v.a, v.b, v.c, r.model_name, r.parameters ->> 'family' AS registry_family, "
            "CAST(r.parameters -> 'products' -> CAST($1 AS text) -> 'params' AS text) AS params "
            "FROM shrinkage_active_curves v JOIN ml_model_registry r ON r.id = v.ml_model_registry_id "
            "WHERE v.nomenclature_id = $1", ["integer"])
    rows = plpy.execute(plan, [nomenclature_id])
    if not rows:
        return None
    row = rows[0]
    if row["params"] is None:
        model = (row["family"], row["a"], row["b"], row["c"])
    else:
        params = json.loads(row["params"])
        model = (row["registry_family"] or row["model_name"],
                 params.get("a"), params.get("b"), params.get("c"))
    return model if curve_value(*model, 0.0) is not None else None


def _exp_linear(a, b, c, t):
    return curve_value("exp_linear", a, b, c, t)


def register_sqlite_functions(dbapi_connection) -> None:
    """shrinkage_curve(a, b, c, t), shrinkage_curve(family, a, b, c, t) and
    shrinkage_batch_loss(family, a, b, c, quantity, age_days, horizon_days) on a sqlite3 connection."""
    dbapi_connection.create_function("shrinkage_curve", 4, _exp_linear, deterministic=True)
    dbapi_connection.create_function("shrinkage_curve", 5, curve_value, deterministic=True)
    dbapi_connection.create_function("shrinkage_batch_loss", 7, batch_loss_value, deterministic=True)


# ---- PostgreSQL --------------------------------------------------------------------------

class BracedTemplate(Template):
    """Only ``${name}`` placeholders: the ``$fn$`` dollar quotes of function bodies pass through."""

    pattern = r"\$(?:(?P<escaped>(?!))|(?P<named>(?!))|{(?P<braced>[_a-z][_a-z0-9]*)}|(?P<invalid>(?!)))"


def _schema(connection: Connection) -> str:
    name = connection.execute(text("SELECT current_schema()")).scalar_one()
    return connection.dialect.identifier_preparer.quote(name)


def _run_script(connection: Connection, script: str) -> None:
    # no_parameters: the driver must not treat % in the SQL as a placeholder.
    connection.exec_driver_sql(script, execution_options={"no_parameters": True})


def create_sql_functions(connection: Connection) -> None:
    """The immutable SQL functions (PostgreSQL; SQLite registers them per connection)."""
    if connection.dialect.name == "postgresql":
        script = BracedTemplate(read_sql("curves/functions.sql")).substitute(
            schema=_schema(connection), max_fraction=repr(MAX_FRACTION))
        _run_script(connection, script)


def drop_sql_functions(connection: Connection) -> None:
    if connection.dialect.name != "postgresql":
        return
    signatures = {4: "double precision, double precision, double precision, double precision",
                  5: "text, double precision, double precision, double precision, double precision",
                  7: "text, double precision, double precision, double precision, "
                     "double precision, double precision, double precision"}
    for name, arities in reversed(SQL_FUNCTIONS.items()):
        for n in arities:
            connection.exec_driver_sql(f"DROP FUNCTION IF EXISTS {name}({signatures[n]})")


def plpython_script(schema: str) -> str:
    """sql/curves/plpython.sql with the schema and the Python of this module's
    :func:`curve_value`, :func:`batch_loss_value` and :func:`product_model` filled in."""
    python = "\n".join([f"MAX_FRACTION = {MAX_FRACTION!r}", "import math",
                        *(inspect.getsource(f) for f in (curve_value, batch_loss_value, product_model))])
    return BracedTemplate(read_sql("curves/plpython.sql")).substitute(schema=schema, curve_python=python)


def plpython_available(connection: Connection) -> bool:
    """Whether the server has the PL/Python package (Debian: postgresql-plpython3-15)."""
    return connection.execute(text(
        "SELECT 1 FROM pg_available_extensions WHERE name = :n"), {"n": PLPYTHON}).first() is not None


def create_plpython_functions(connection: Connection) -> bool:
    """The PL/Python functions, when the server can have them and this role may create them.

    plpython3u is an untrusted language: creating the extension and its functions needs a
    superuser. Without the package or the right this logs why and returns False; everything
    else of the migration stands (the work runs in a savepoint, so a refusal does not abort
    the surrounding transaction).
    """
    if connection.dialect.name != "postgresql":
        return False
    if not plpython_available(connection):
        log.warning("PL/Python functions not created: the server has no %s extension "
                    "(Debian/Ubuntu: apt-get install postgresql-plpython3-<major>); the SQL "
                    "functions and views work without it", PLPYTHON)
        return False
    script = plpython_script(_schema(connection))
    savepoint = connection.begin_nested()
    try:
        connection.exec_driver_sql(f"CREATE EXTENSION IF NOT EXISTS {PLPYTHON}")
        _run_script(connection, script)
    except DBAPIError as exc:
        savepoint.rollback()
        if getattr(exc.orig, "pgcode", None) != INSUFFICIENT_PRIVILEGE:
            raise
        reason = str(exc.orig).strip().splitlines()[0]
        log.warning("PL/Python functions not created: %s (%s is an untrusted language: a superuser "
                    "must run this migration, or create the extension and run `shrinkage db upgrade` "
                    "as a superuser); the SQL functions and views work without it", reason, PLPYTHON)
        return False
    savepoint.commit()
    log.info("PL/Python functions created: %s", ", ".join(PLPYTHON_FUNCTIONS))
    return True


def drop_plpython_functions(connection: Connection) -> None:
    """Drop the PL/Python functions; the extension stays (other objects may use it)."""
    if connection.dialect.name != "postgresql":
        return
    for signature in PLPYTHON_FUNCTIONS:
        connection.exec_driver_sql(f"DROP FUNCTION IF EXISTS {signature}")


def plpython_functions_present(connection: Connection) -> list[str]:
    if connection.dialect.name != "postgresql":
        return []
    return list(connection.execute(text(
        "SELECT p.proname FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang "
        "WHERE l.lanname = :lang AND p.pronamespace = CAST(current_schema() AS regnamespace) "
        "ORDER BY p.proname"), {"lang": PLPYTHON}).scalars())
