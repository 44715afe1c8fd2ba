"""The TimescaleDB test double (tests/tsdb) really does the TimescaleDB things we rely on.

Hypertables, continuous aggregates, compression and retention policies (run by hand with
``CALL run_job``: there is no scheduler), one connection at a time, and no session state
leaking from one client to the next.
"""

from __future__ import annotations

import datetime as dt
import io
import threading
from collections.abc import Iterator

import psycopg2
import pytest
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from tests.tsdb_server import TsdbServer, start_tsdb_server

pytestmark = pytest.mark.timescaledb

WEEK = dt.timedelta(days=7)
# A Thursday: the epoch-aligned 7-day chunk boundaries fall on Thursdays 00:00 UTC, so six
# weeks of hourly readings from here fill exactly six chunks.
FIRST_READING = dt.datetime(2024, 1, 4, tzinfo=dt.UTC)
WEEKS_OF_READINGS = 6
SENSORS = 3


@pytest.fixture(scope="module")
def tsdb_engine(tsdb: TsdbServer) -> Iterator[sa.Engine]:
    engine = sa.create_engine(tsdb.url, poolclass=NullPool)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def tsdb_autocommit_engine(tsdb: TsdbServer) -> Iterator[sa.Engine]:
    """refresh_continuous_aggregate and CREATE MATERIALIZED VIEW ... WITH DATA refuse a transaction block."""
    engine = sa.create_engine(tsdb.url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    yield engine
    engine.dispose()


def create_readings(engine: sa.Engine, table: str) -> None:
    """A weekly-chunked hypertable with hourly readings of a few sensors over six weeks."""
    with engine.begin() as conn:
        conn.execute(sa.text(f"CREATE TABLE {table} (ts timestamptz NOT NULL, sensor int NOT NULL, "
                             "value numeric(10, 2) NOT NULL)"))
        conn.execute(sa.text(f"SELECT create_hypertable('{table}', by_range('ts', INTERVAL '7 days'))"))
        conn.execute(sa.text(
            f"INSERT INTO {table} (ts, sensor, value) "
            "SELECT ts, sensor, (extract(epoch FROM ts)::bigint % 997) / 10.0 + sensor "
            "FROM generate_series(CAST(:first AS timestamptz), CAST(:last AS timestamptz), INTERVAL '1 hour') AS ts, "
            "generate_series(1, :sensors) AS sensor"),
            {"first": FIRST_READING, "last": FIRST_READING + WEEKS_OF_READINGS * WEEK - dt.timedelta(hours=1),
             "sensors": SENSORS})


def chunks(conn: sa.Connection, table: str) -> list[sa.Row]:
    return conn.execute(sa.text(
        "SELECT chunk_name, range_start, range_end, is_compressed FROM timescaledb_information.chunks "
        "WHERE hypertable_name = :table ORDER BY range_start"), {"table": table}).all()


def policy_job_id(conn: sa.Connection, table: str, proc_name: str) -> int:
    return conn.execute(sa.text(
        "SELECT job_id FROM timescaledb_information.jobs WHERE hypertable_name = :table AND proc_name = :proc"),
        {"table": table, "proc": proc_name}).scalar_one()


def all_readings(conn: sa.Connection, table: str) -> list[sa.Row]:
    return conn.execute(sa.text(f"SELECT ts, sensor, value FROM {table} ORDER BY ts, sensor")).all()


def test_timescaledb_extension_is_installed(tsdb_engine: sa.Engine) -> None:
    with tsdb_engine.connect() as conn:
        version = conn.execute(sa.text(
            "SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'")).scalar_one()
    assert version.split(".")[0] == "2"


def test_hypertable_spreads_weeks_of_rows_over_weekly_chunks(tsdb_engine: sa.Engine) -> None:
    create_readings(tsdb_engine, "readings_chunked")
    with tsdb_engine.connect() as conn:
        found = chunks(conn, "readings_chunked")
        rows = conn.execute(sa.text("SELECT count(*) FROM readings_chunked")).scalar_one()
    assert len(found) == WEEKS_OF_READINGS
    assert [chunk.range_end - chunk.range_start for chunk in found] == [WEEK] * WEEKS_OF_READINGS
    assert rows == WEEKS_OF_READINGS * 7 * 24 * SENSORS


def test_continuous_aggregate_equals_plain_group_by(
        tsdb_engine: sa.Engine, tsdb_autocommit_engine: sa.Engine) -> None:
    create_readings(tsdb_engine, "readings_cagg")
    with tsdb_autocommit_engine.connect() as conn:
        conn.execute(sa.text(
            "CREATE MATERIALIZED VIEW readings_daily WITH (timescaledb.continuous) AS "
            "SELECT time_bucket(INTERVAL '1 day', ts) AS day, sensor, sum(value) AS total, count(*) AS n "
            "FROM readings_cagg GROUP BY day, sensor WITH NO DATA"))
        assert conn.execute(sa.text("SELECT count(*) FROM readings_daily")).scalar_one() == 0
        conn.execute(sa.text("CALL refresh_continuous_aggregate('readings_daily', NULL, NULL)"))
        materialised = conn.execute(sa.text(
            "SELECT day, sensor, total, n FROM readings_daily ORDER BY day, sensor")).all()
        expected = conn.execute(sa.text(
            "SELECT date_trunc('day', ts) AS day, sensor, sum(value), count(*) FROM readings_cagg "
            "GROUP BY 1, 2 ORDER BY 1, 2")).all()
    assert len(materialised) == WEEKS_OF_READINGS * 7 * SENSORS
    assert materialised == expected


def test_compression_policy_job_compresses_chunks_and_data_reads_back(
        tsdb_engine: sa.Engine, tsdb_autocommit_engine: sa.Engine) -> None:
    create_readings(tsdb_engine, "readings_compressed")
    with tsdb_engine.connect() as conn:
        before = all_readings(conn, "readings_compressed")
    with tsdb_autocommit_engine.connect() as conn:
        conn.execute(sa.text("ALTER TABLE readings_compressed SET (timescaledb.compress, "
                             "timescaledb.compress_segmentby = 'sensor', timescaledb.compress_orderby = 'ts')"))
        conn.execute(sa.text(
            "SELECT add_compression_policy('readings_compressed', compress_after => INTERVAL '7 days')"))
        job_id = policy_job_id(conn, "readings_compressed", "policy_compression")
        assert not any(chunk.is_compressed for chunk in chunks(conn, "readings_compressed"))
        conn.execute(sa.text("CALL run_job(:job_id)"), {"job_id": job_id})
        compressed = chunks(conn, "readings_compressed")
        after = all_readings(conn, "readings_compressed")
    assert len(compressed) == WEEKS_OF_READINGS
    assert all(chunk.is_compressed for chunk in compressed)
    assert after == before


def test_retention_policy_job_drops_chunks_older_than_the_cut(tsdb_autocommit_engine: sa.Engine) -> None:
    create_readings(tsdb_autocommit_engine, "readings_retained")
    with tsdb_autocommit_engine.connect() as conn:
        kept_from = chunks(conn, "readings_retained")[3]
        # Cut in the middle of the fourth chunk: the three before it end before the cut.
        cut = kept_from.range_start + (kept_from.range_end - kept_from.range_start) / 2
        drop_after = dt.datetime.now(dt.UTC) - cut
        conn.execute(sa.text("SELECT add_retention_policy('readings_retained', drop_after => :drop_after)"),
                     {"drop_after": drop_after})
        job_id = policy_job_id(conn, "readings_retained", "policy_retention")
        conn.execute(sa.text("CALL run_job(:job_id)"), {"job_id": job_id})
        remaining = chunks(conn, "readings_retained")
        oldest = conn.execute(sa.text("SELECT min(ts) FROM readings_retained")).scalar_one()
    assert [chunk.chunk_name for chunk in remaining][0] == kept_from.chunk_name
    assert len(remaining) == WEEKS_OF_READINGS - 3
    assert oldest == kept_from.range_start


def test_session_state_does_not_leak_to_the_next_connection(tsdb: TsdbServer, tsdb_engine: sa.Engine) -> None:
    with tsdb_engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE leak_probe (n int)"))
    with tsdb_engine.connect() as conn:
        fresh = conn.execute(sa.text("SELECT current_setting('TimeZone'), current_setting('search_path')")).one()
    url = sa.make_url(tsdb.url)
    conn = psycopg2.connect(host=url.host, port=url.port, user=url.username, password=url.password,
                            dbname=url.database)  # leave things dirty on purpose
    conn.autocommit = True
    cursor = conn.cursor()
    cursor.execute("SET timezone = 'Asia/Tokyo'")
    cursor.execute("SET search_path = pg_catalog")
    cursor.execute("CREATE TEMP TABLE scratch (n int)")
    cursor.execute("PREPARE leftover AS SELECT 1")
    conn.autocommit = False
    cursor.execute("INSERT INTO public.leak_probe VALUES (1)")  # never committed
    conn.close()  # the socket closes with the transaction still open

    with tsdb_engine.connect() as conn:
        state = conn.execute(sa.text(
            "SELECT current_setting('TimeZone'), current_setting('search_path'), to_regclass('scratch'), "
            "(SELECT count(*) FROM pg_prepared_statements), (SELECT count(*) FROM public.leak_probe)")).one()
    assert tuple(state) == (*fresh, None, 0, 0)


def test_session_starts_with_stock_postgresql_defaults(tsdb_engine: sa.Engine) -> None:
    with tsdb_engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE lands_in_public (n int)"))
        schema = conn.execute(sa.text(
            "SELECT relnamespace::regnamespace::text FROM pg_class WHERE relname = 'lands_in_public'")).scalar_one()
        settings = conn.execute(sa.text(
            "SELECT current_setting('search_path'), current_setting('client_min_messages')")).one()
    assert schema == "public"
    assert tuple(settings) == ('"$user", public', "notice")


def test_statement_larger_than_one_socket_read_is_served(tsdb_engine: sa.Engine) -> None:
    payload = "x" * 3_000_000
    with tsdb_engine.connect() as conn:
        assert conn.execute(sa.text(f"SELECT length('{payload}')")).scalar_one() == len(payload)
        assert conn.execute(sa.text("SELECT length(CAST(:p AS text))"), {"p": payload}).scalar_one() == len(payload)


def test_copy_from_stdin_loads_rows_and_reports_bad_data(tsdb: TsdbServer, tsdb_engine: sa.Engine) -> None:
    with tsdb_engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE copied (n int, label text)"))
    rows = "".join(f"{n},label {n}\n" for n in range(50_000))  # many CopyData messages
    url = sa.make_url(tsdb.url)
    conn = psycopg2.connect(host=url.host, port=url.port, user=url.username, password=url.password,
                            dbname=url.database)
    try:
        cursor = conn.cursor()
        cursor.copy_expert("COPY copied FROM STDIN WITH (FORMAT csv)", io.StringIO(rows))
        conn.commit()
        with pytest.raises(psycopg2.errors.InvalidTextRepresentation):
            cursor.copy_expert("COPY copied FROM STDIN WITH (FORMAT csv)", io.StringIO("not a number,x\n"))
        conn.rollback()
        cursor.execute("SELECT count(*), sum(n) FROM copied")
        loaded = cursor.fetchone()
    finally:
        conn.close()
    assert loaded == (50_000, sum(range(50_000)))


def test_second_connection_waits_for_the_first_to_close(tsdb_engine: sa.Engine) -> None:
    first = tsdb_engine.connect()
    first.execute(sa.text("SELECT 1"))
    connected = threading.Event()

    def connect_second() -> None:
        with tsdb_engine.connect() as second:
            second.execute(sa.text("SELECT 1"))
            connected.set()

    waiter = threading.Thread(target=connect_second)
    waiter.start()
    try:
        assert not connected.wait(0.5)
    finally:
        first.close()
    waiter.join(timeout=10)
    assert connected.is_set()


@pytest.mark.slow
def test_reopened_data_directory_keeps_hypertables_working(tmp_path) -> None:
    data_dir = tmp_path / "pgdata"
    with start_tsdb_server(tmp_path / "first", data_dir=data_dir) as server:
        engine = sa.create_engine(server.url, poolclass=NullPool)
        create_readings(engine, "readings_kept")
        engine.dispose()
    with start_tsdb_server(tmp_path / "second", data_dir=data_dir) as server:
        engine = sa.create_engine(server.url, poolclass=NullPool)
        with engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO readings_kept VALUES (CAST(:ts AS timestamptz), 1, 1.0)"),
                         {"ts": FIRST_READING + WEEKS_OF_READINGS * WEEK})
            rows = conn.execute(sa.text("SELECT count(*) FROM readings_kept")).scalar_one()
            chunk_count = len(chunks(conn, "readings_kept"))
        engine.dispose()
    assert rows == WEEKS_OF_READINGS * 7 * 24 * SENSORS + 1
    assert chunk_count == WEEKS_OF_READINGS + 1


@pytest.mark.slow
def test_client_kept_waiting_too_long_gets_a_readable_error(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("TSDB_QUEUE_TIMEOUT_MS", "300")
    with start_tsdb_server(tmp_path) as server:
        engine = sa.create_engine(server.url, poolclass=NullPool)
        with engine.connect() as holder:
            holder.execute(sa.text("SELECT 1"))
            with pytest.raises(sa.exc.OperationalError, match="one connection at a time"):
                engine.connect()
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT 1")).scalar_one() == 1
        engine.dispose()
