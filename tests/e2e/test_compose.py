"""docker-compose.yml, the Dockerfile and docker/ are right without Docker on this machine.

The compose file is validated against the Compose Specification's JSON schema (vendored in
tests/fixtures, see compose-spec.md there), then held to the production rules: loopback-only
ports, health-gated start order, secrets only as files, every variable documented. The
database init scripts and the Dagster instance config run for real against the throwaway
PostgreSQL server, the way the containers would run them.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import subprocess
import tomllib
import uuid
from pathlib import Path

import jsonschema
import pytest
import sqlalchemy as sa
import yaml
from sqlalchemy.exc import DBAPIError

from shrinkage.db import migrate
from shrinkage.db.engine import make_engine

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
ENV_EXAMPLE = ROOT / "docker" / ".env.example"
DAGSTER_YAML = ROOT / "docker" / "dagster.yaml"
WORKSPACE_YAML = ROOT / "docker" / "workspace.yaml"
SCHEMA_FILE = ROOT / "tests" / "fixtures" / "compose-spec.json"
SCHEMA_SHA256 = "d549057ebc2925f39f62799eab0db7b9e2c18b35b6c00595199116da3ed10e64"
INIT_DIR = "/docker-entrypoint-initdb.d/"
SECRETS_DIR = "/run/secrets/"

# ${VAR}, ${VAR:-default}, ${VAR:?message}; "$${VAR}" is escaped for the container's shell.
_VARIABLE = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)")
_SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|API_KEY|PRIVATE_KEY", re.IGNORECASE)
_URL_WITH_PASSWORD = re.compile(r"://[^/\s:@]+:[^@\s]+@")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


def service_environment(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {str(k): "" if v is None else str(v) for k, v in env.items()}


def volume_parts(spec: str) -> list[str]:
    """source, target[, mode] of a short-syntax volume; colons inside ${VAR:-default} stay."""
    return re.split(r":(?![^{]*\})", spec)


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined, comments dropped."""
    joined, current = [], ""
    for line in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            current += line.rstrip()[:-1] + " "
            continue
        joined.append(current + line)
        current = ""
    instructions = []
    for text in joined:
        keyword, _, args = text.strip().partition(" ")
        instructions.append((keyword.upper(), args.strip()))
    return instructions


def env_example_variables() -> dict[str, str]:
    found = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^\s*#?\s*([A-Z][A-Z0-9_]*)=(.*)$", line)
        if match:
            found[match.group(1)] = match.group(2).strip()
    return found


# --- the schema -----------------------------------------------------------------------------


def test_vendored_schema_is_the_recorded_one():
    digest = hashlib.sha256(SCHEMA_FILE.read_bytes()).hexdigest()
    assert digest == SCHEMA_SHA256, (
        f"{SCHEMA_FILE} changed (sha256 {digest}): record its origin and version in "
        "tests/fixtures/compose-spec.md and update SCHEMA_SHA256")


def test_compose_file_is_valid_against_the_compose_specification(compose):
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(compose), key=lambda e: list(e.absolute_path))
    assert not errors, "docker-compose.yml violates the Compose Specification:\n" + "\n".join(
        f"  at {'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}" for e in errors[:20])


def test_schema_check_catches_a_broken_file(compose):
    """The validation above can fail: a misspelt key is reported."""
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    broken = json.loads(json.dumps(compose))
    broken["services"]["db"]["healthckeck"] = broken["services"]["db"].pop("healthcheck")
    assert list(jsonschema.Draft202012Validator(schema).iter_errors(broken))


# --- production rules -------------------------------------------------------------------------


def test_the_stack_has_its_services(services):
    assert {"db", "migrate", "code", "webserver", "daemon"} <= set(services)
    assert services["db"]["image"].startswith("timescale/timescaledb:")
    assert re.search(r":\d+\.\d+\.\d+-pg1[56]$", services["db"]["image"]), "pin the TimescaleDB tag (PostgreSQL 15/16)"


def test_every_published_port_is_bound_to_loopback(services):
    published = [(name, port) for name, svc in services.items() for port in svc.get("ports", [])]
    assert published, "the UI port should be published (on 127.0.0.1)"
    for name, port in published:
        host_ip = port.get("host_ip") if isinstance(port, dict) else str(port).split(":")[0]
        assert host_ip == "127.0.0.1", f"service {name}: port {port!r} must be bound to 127.0.0.1"
    assert not services["code"].get("ports"), "the code server's gRPC port must not be published"


def test_database_has_a_pg_isready_healthcheck(services):
    check = services["db"]["healthcheck"]
    command = " ".join(check["test"]) if isinstance(check["test"], list) else check["test"]
    assert "pg_isready" in command


def test_services_start_only_on_a_healthy_database(services):
    for name, svc in services.items():
        if name == "db":
            continue
        depends = svc.get("depends_on")
        assert isinstance(depends, dict) and "db" in depends, f"{name} must depend on db (long syntax)"
        assert depends["db"]["condition"] == "service_healthy", f"{name}: wait for a healthy db"


def test_start_order_migration_then_code_then_ui_and_daemon(services):
    assert services["code"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    for name in ("webserver", "daemon"):
        assert services[name]["depends_on"]["code"]["condition"] == "service_healthy"
    assert services["migrate"]["command"] == ["shrinkage", "db", "upgrade"]
    assert services["migrate"]["restart"] == "no"
    for name in ("db", "code", "webserver", "daemon"):
        assert services[name]["restart"] in ("unless-stopped", "always"), f"{name}: restart policy"


def test_long_running_services_have_healthchecks(services):
    code_port = _option(services["code"]["command"], "-p")
    code_check = services["code"]["healthcheck"]["test"]
    assert code_check[1:4] == ["dagster", "api", "grpc-health-check"] and code_port in code_check
    web_port = _option(services["webserver"]["command"], "-p")
    assert f"127.0.0.1:{web_port}/server_info" in " ".join(services["webserver"]["healthcheck"]["test"])
    assert "liveness-check" in services["daemon"]["healthcheck"]["test"]


def _option(command: list[str], flag: str) -> str:
    return command[command.index(flag) + 1]


def test_one_image_for_the_dagster_services_built_by_the_dockerfile(services):
    app_services = ("migrate", "code", "webserver", "daemon")
    images = {services[name]["image"] for name in app_services}
    assert len(images) == 1, f"one image for {app_services}, found {images}"
    for name in app_services:
        build = services[name]["build"]
        assert (ROOT / build["context"] / build["dockerfile"]).resolve() == DOCKERFILE


def test_code_server_serves_the_code_location(services):
    command = services["code"]["command"]
    assert command[:3] == ["dagster", "api", "grpc"] and _option(command, "-m") == "pipelines.definitions"
    workspace = yaml.safe_load(WORKSPACE_YAML.read_text(encoding="utf-8"))
    (entry,) = workspace["load_from"]
    assert entry["grpc_server"]["host"] == "code"
    assert str(entry["grpc_server"]["port"]) == _option(command, "-p")
    copied = [args.split() for kw, args in dockerfile_instructions() if kw == "COPY"]
    assert ["docker/workspace.yaml", _option(services["webserver"]["command"], "-w")] in copied
    assert ["docker/workspace.yaml", _option(services["daemon"]["command"], "-w")] in copied


def test_no_plaintext_secrets(compose, services):
    declared = set(compose.get("secrets", {}))
    for name, svc in services.items():
        mounted = {s if isinstance(s, str) else s["source"] for s in svc.get("secrets", [])}
        assert mounted <= declared, f"{name} mounts undeclared secrets {mounted - declared}"
        for key, value in service_environment(svc).items():
            assert not _URL_WITH_PASSWORD.search(value), f"{name}: {key} holds a URL with a password"
            if _SECRET_NAME.search(key):
                assert key.endswith("_FILE"), f"{name}: {key} must be a *_FILE pointing at a docker secret"
                assert value.startswith(SECRETS_DIR), f"{name}: {key}={value} is not a docker secret file"
                assert value.removeprefix(SECRETS_DIR) in mounted, f"{name}: {key} names a secret it does not mount"
    for name, secret in compose["secrets"].items():
        assert set(secret) == {"environment"}, f"secret {name}: take it from .env via 'environment'"


def test_the_pipeline_runs_as_the_application_user_and_migrations_as_the_owner(services):
    code, migrate_env = service_environment(services["code"]), service_environment(services["migrate"])
    assert code["DB_USER"] == "${DB_APP_USER:-shrinkage_pipeline}"
    assert code["DB_PASSWORD_FILE"] == SECRETS_DIR + "db_app_password"
    assert migrate_env["DB_USER"] == "${DB_MIGRATOR_USER:-shrinkage_migrator}"
    assert migrate_env["DB_PASSWORD_FILE"] == SECRETS_DIR + "db_migrator_password"
    for name in ("webserver", "daemon"):  # they never touch the application database
        assert not {"DB_USER", "DB_PASSWORD_FILE", "SHRINKAGE_DATABASE_URL"} & set(service_environment(services[name]))


def test_inbox_and_reports_are_volumes_of_the_code_server(services):
    env = service_environment(services["code"])
    targets = {volume_parts(v)[1] for v in services["code"]["volumes"]}
    assert env["SHRINKAGE_INBOX"] in targets and env["SHRINKAGE_REPORTS"] in targets


def test_every_variable_is_documented_in_env_example(compose):
    text = COMPOSE_FILE.read_text(encoding="utf-8")
    used = set(_VARIABLE.findall(text)) | {s["environment"] for s in compose["secrets"].values()}
    assert not re.search(r"(?<!\$)\$[A-Za-z_]", text), "write ${VAR} (or $${VAR} for the container's shell)"
    documented = env_example_variables()
    assert used - set(documented) == set(), f"document these in docker/.env.example: {sorted(used - set(documented))}"
    for name in used:
        if _SECRET_NAME.search(name):
            assert documented[name] == "", f"docker/.env.example must not carry a value for {name}"


def test_init_scripts_mounted_after_the_timescaledb_ones(services):
    mounts = [volume_parts(v) for v in services["db"]["volumes"] if v.startswith("./")]
    init = sorted((target, source) for source, target, *_ in mounts if target.startswith(INIT_DIR))
    assert [Path(t).name for t, _ in init] == [
        "10-shrinkage-databases.sh", "20-shrinkage-roles.sql", "30-shrinkage-grants.sh"]
    assert all(Path(t).name > "001_timescaledb_tune.sh" for t, _ in init)  # the image's own scripts run first
    for _, source in init:
        assert (ROOT / source).is_file(), f"{source} is mounted but missing"
        if source.endswith(".sh"):
            assert os.access(ROOT / source, os.X_OK), f"{source} must be executable"


# --- the image --------------------------------------------------------------------------------


def test_image_installs_exactly_as_ci_does():
    instructions = dockerfile_instructions()
    assert instructions[0] == ("FROM", "python:3.11-slim-bookworm")
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["requires-python"]
    assert ">=3.11" in requires
    runs = [args for kw, args in instructions if kw == "RUN"]
    assert any(shlex.split(r)[-2:] == ["make", "install"] or r == "make install" for r in runs), \
        "the Dockerfile must run `make install`, the install step of .ci/run"
    assert not any("pip install" in r for r in runs), "no install line of its own: `make install` is the one recipe"
    ci_lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()]
    assert "make install" in ci_lines
    recipe = _make_recipe("install")
    assert any('pip install -q -e ".[dev]"' in line for line in recipe), recipe


def _make_recipe(target: str) -> list[str]:
    lines = (ROOT / "Makefile").read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"{target}:"))
    recipe = []
    for line in lines[start + 1:]:
        if not line.startswith("\t"):
            break
        recipe.append(line.strip())
    return recipe


def test_image_copies_what_the_distribution_needs():
    copied = []
    for kw, args in dockerfile_instructions():
        if kw == "COPY":
            *sources, _target = args.split()
            copied += [s.rstrip("/") for s in sources if not s.startswith("--")]
    assert "." not in copied, "COPY . would bring the host's .venv into the image"
    for source in copied:
        assert (ROOT / source).exists(), f"the Dockerfile copies {source}, which does not exist"
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    packages = [p.rstrip("*") for p in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]]
    needed = {*packages, pyproject["project"]["readme"], "pyproject.toml", "Makefile", "sql"}
    assert needed <= set(copied), f"the image misses {sorted(needed - set(copied))}"
    assert os.access(ROOT / "docker" / "entrypoint.sh", os.X_OK)


def test_dagster_instance_uses_postgres_storage_and_a_queue():
    config = yaml.safe_load(DAGSTER_YAML.read_text(encoding="utf-8"))
    db = config["storage"]["postgres"]["postgres_db"]
    assert {k: v["env"] for k, v in db.items()} == {
        "hostname": "DAGSTER_PG_HOST", "port": "DAGSTER_PG_PORT", "db_name": "DAGSTER_PG_DB",
        "username": "DAGSTER_PG_USER", "password": "DAGSTER_PG_PASSWORD"}
    assert config["run_coordinator"]["class"] == "QueuedRunCoordinator"
    assert config["run_coordinator"]["config"]["max_concurrent_runs"] == {"env": "DAGSTER_MAX_CONCURRENT_RUNS"}


# --- for real, on the throwaway PostgreSQL server -----------------------------------------------


@pytest.mark.postgres
def test_dagster_yaml_builds_a_postgres_instance(pg_server, tmp_path, monkeypatch):
    import dagster as dg
    from dagster._core.run_coordinator import QueuedRunCoordinator
    from dagster_postgres import PostgresEventLogStorage, PostgresRunStorage, PostgresScheduleStorage

    database = pg_server.create_database().database
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text(DAGSTER_YAML.read_text(encoding="utf-8"), encoding="utf-8")
    admin = pg_server.admin_url
    for key, value in {"DAGSTER_HOME": str(home), "DAGSTER_PG_HOST": admin.host, "DAGSTER_PG_PORT": str(admin.port),
                       "DAGSTER_PG_DB": database, "DAGSTER_PG_USER": admin.username,
                       "DAGSTER_PG_PASSWORD": admin.password, "DAGSTER_MAX_CONCURRENT_RUNS": "3"}.items():
        monkeypatch.setenv(key, value)
    instance = dg.DagsterInstance.get()
    try:
        assert isinstance(instance.run_storage, PostgresRunStorage)
        assert isinstance(instance.event_log_storage, PostgresEventLogStorage)
        assert isinstance(instance.schedule_storage, PostgresScheduleStorage)
        assert isinstance(instance.run_coordinator, QueuedRunCoordinator)
        assert instance.get_concurrency_config().run_queue_config.max_concurrent_runs == 3
        assert instance.get_runs() == []
    finally:
        instance.dispose()
    engine = sa.create_engine(pg_server.url_for(database), poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        assert "runs" in sa.inspect(conn).get_table_names()
    engine.dispose()


@pytest.mark.postgres
def test_init_scripts_create_the_databases_and_roles_the_services_use(pg_server, services, tmp_path):
    """Run docker/initdb + sql/roles.sql as the image's entrypoint would, then log in as each user."""
    suffix = uuid.uuid4().hex[:8]
    names = {"POSTGRES_DB": f"app_{suffix}", "DAGSTER_PG_DB": f"dagster_{suffix}",
             "DB_MIGRATOR_USER": f"migrator_{suffix}", "DB_APP_USER": f"pipeline_{suffix}",
             "DB_REPORTING_USER": f"reader_{suffix}", "DAGSTER_PG_USER": f"dagster_{suffix}"}
    passwords = {}
    env = {**os.environ, **names}
    for variable in ("DB_MIGRATOR_PASSWORD_FILE", "DB_APP_PASSWORD_FILE", "DB_REPORTING_PASSWORD_FILE",
                     "DAGSTER_PG_PASSWORD_FILE"):
        secret = tmp_path / variable.lower()
        passwords[variable] = "pw-" + uuid.uuid4().hex + "'\"$x"  # quoting must not matter
        secret.write_text(passwords[variable], encoding="utf-8")
        env[variable] = str(secret)
    admin = pg_server.admin_url
    env.update(POSTGRES_USER=admin.username, PGHOST=admin.host, PGPORT=str(admin.port), PGPASSWORD=admin.password)
    pg_server.create_database(names["POSTGRES_DB"])  # the entrypoint creates POSTGRES_DB before the scripts

    for target, source in _init_files(services):
        if source.suffix == ".sh":
            command = ["bash", str(source)]
        else:
            command = ["psql", "-v", "ON_ERROR_STOP=1", "--username", admin.username, "--no-password",
                       "--no-psqlrc", "--dbname", names["POSTGRES_DB"], "-f", str(source)]
        result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, f"{target} failed:\n{result.stdout}\n{result.stderr}"

    def url(user_variable: str, password_variable: str, database: str) -> sa.URL:
        return admin.set(username=names[user_variable], password=passwords[password_variable], database=database)

    app_db = names["POSTGRES_DB"]
    migrator = make_engine(url("DB_MIGRATOR_USER", "DB_MIGRATOR_PASSWORD_FILE", app_db), null_pool=True)
    migrate.upgrade(migrator)  # the `migrate` service
    with migrator.connect() as conn:
        owners = set(conn.execute(sa.text("SELECT tableowner FROM pg_tables WHERE schemaname = 'public'")).scalars())
    assert owners == {"shrinkage_owner"}
    migrator.dispose()

    pipeline = make_engine(url("DB_APP_USER", "DB_APP_PASSWORD_FILE", app_db), null_pool=True)
    migrate.upgrade(pipeline)  # what the code server's DatabaseResource does: a no-op at head
    with pipeline.connect() as conn:
        assert conn.execute(sa.text("SELECT has_table_privilege('source_data', 'INSERT')")).scalar_one()
        assert not conn.execute(sa.text("SELECT has_schema_privilege('public', 'CREATE')")).scalar_one()
    with pytest.raises(DBAPIError, match="permission denied"), pipeline.begin() as conn:
        conn.execute(sa.text("CREATE TABLE sneaky (id int)"))
    pipeline.dispose()

    reader = make_engine(url("DB_REPORTING_USER", "DB_REPORTING_PASSWORD_FILE", app_db), null_pool=True)
    with reader.connect() as conn:
        assert conn.execute(sa.text("SELECT has_table_privilege('source_data', 'SELECT')")).scalar_one()
        assert not conn.execute(sa.text("SELECT has_table_privilege('source_data', 'INSERT')")).scalar_one()
    reader.dispose()

    dagster_db = names["DAGSTER_PG_DB"]
    dagster_user = make_engine(url("DAGSTER_PG_USER", "DAGSTER_PG_PASSWORD_FILE", dagster_db), null_pool=True)
    with dagster_user.begin() as conn:
        conn.execute(sa.text("CREATE TABLE runs_probe (id int)"))  # Dagster creates its own tables
    dagster_user.dispose()
    outsider = make_engine(url("DB_APP_USER", "DB_APP_PASSWORD_FILE", dagster_db), null_pool=True)
    with pytest.raises(DBAPIError, match="permission denied"), outsider.connect():
        pass
    outsider.dispose()


def _init_files(services) -> list[tuple[str, Path]]:
    mounts = [volume_parts(v) for v in services["db"]["volumes"] if v.startswith("./")]
    return sorted((target, ROOT / source) for source, target, *_ in mounts if target.startswith(INIT_DIR))
