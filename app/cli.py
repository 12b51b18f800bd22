"""The command-line door (`flask --app wsgi …`): operators' commands over the same services."""
from __future__ import annotations

import sys
import threading
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from app.errors import DomainError

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def _db():
    return current_app.extensions["sunlight.db"]


def _settings():
    return current_app.extensions["sunlight.settings"]


def _fail(exc: DomainError) -> None:
    click.echo(f"error: {exc.message}", err=True)
    sys.exit(2 if exc.status < 500 else 1)


def alembic_config():
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", current_app.config["DATABASE_URL"].replace("%", "%%"))
    return cfg


def upgrade_database() -> None:
    """Alembic to head, then the working-day calendar years the data package knows."""
    from alembic import command

    from app.calendar import service as calendar

    url = current_app.config["DATABASE_URL"]
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        Path(url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(), "head")
    with _db().unit_of_work() as s:
        years = calendar.seed_from_package(s)
    if years:
        click.echo(f"working-day calendar loaded for {', '.join(map(str, years))}")


db_cli = AppGroup("db", help="Database migrations (Alembic).")


@db_cli.command("upgrade")
def db_upgrade():
    """Migrate the database to the newest schema."""
    upgrade_database()
    click.echo("database at head")


@db_cli.command("check")
def db_check():
    """Fail when the models and the migrations disagree (run in CI)."""
    from alembic import command

    command.check(alembic_config())
    click.echo("models and migrations agree")


orgs_cli = AppGroup("orgs", help="Org units: the district, its departments and streets.")


@orgs_cli.command("create")
@click.argument("code")
@click.argument("name")
@click.option("--kind", type=click.Choice(["district", "department", "street"]), required=True)
@click.option("--parent", "parent", default=None, help="the parent org unit's code")
def orgs_create(code, name, kind, parent):
    from app.orgs import service as orgs

    try:
        with _db().unit_of_work() as s:
            org = orgs.create_org(s, code, name, kind, parent, actor="cli")
            click.echo(f"org unit {org.code} ({org.kind}) created")
    except DomainError as exc:
        _fail(exc)


users_cli = AppGroup("users", help="Staff users and their API tokens.")


@users_cli.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice(["admin", "designer", "legal", "clerk", "supervisor"]), required=True)
@click.option("--org", "org", required=True, help="the user's org unit code")
@click.option("--post", "posts", multiple=True, help="a post (岗位) the user holds; repeatable")
@click.option("--password", default=None, help="for signing in to the web pages")
@click.option("--email", default=None, help="where supervision notices are mailed (when SMTP_HOST is set)")
def users_create(username, role, org, posts, password, email):
    """Create a user; the API token is printed as the last line."""
    from app.orgs import service as orgs

    try:
        with _db().unit_of_work() as s:
            user = orgs.create_user(s, username, role, org, list(posts), password, actor="cli", email=email)
            token = orgs.issue_token(s, user, actor="cli")
    except DomainError as exc:
        _fail(exc)
    click.echo(f"user {username} ({role}) created in {org}")
    click.echo(token)


@users_cli.command("token")
@click.argument("username")
def users_token(username):
    """Print a fresh API token for the user."""
    from app.orgs import service as orgs

    try:
        with _db().unit_of_work() as s:
            token = orgs.issue_token(s, orgs.user_by_name(s, username), actor="cli")
    except DomainError as exc:
        _fail(exc)
    click.echo(token)


timers_cli = AppGroup("timers", help="The timer worker.")


@timers_cli.command("run")
@click.option("--once", is_flag=True, help="fire what is due now and exit")
def timers_run(once):
    """Fire due timers (raising their supervision notices); poll every TIMER_POLL_SECONDS."""
    from app import worker

    if once:
        fired = worker.sweep(_db(), _settings())
        click.echo(f"{fired} timer(s) fired")
        return
    try:
        worker.run_forever(_db(), _settings(), float(current_app.config["TIMER_POLL_SECONDS"]))
    except KeyboardInterrupt:
        pass


audit_cli = AppGroup("audit", help="The tamper-evident audit trail.")


@audit_cli.command("verify")
def audit_verify():
    """Exit 0 when every chain is intact; otherwise name the first bad record and exit 1."""
    from app.audit import service as audit

    with _db().unit_of_work() as s:
        breach = audit.verify(s)
    if breach:
        click.echo(f"audit trail broken at {breach}", err=True)
        sys.exit(1)
    click.echo("audit trail intact")


@click.command("demo")
def demo():
    """Load the demo district: 22 departments, 668 powers with flows, staff, cases in every state (idempotent)."""
    from app.demo import loader

    loader.load(_db(), _settings(), echo=click.echo)


@click.command("serve")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int, envvar="PORT")
def serve(host, port):
    """Serve the UI + API (waitress) with a timer worker beside it; Ctrl-C stops both."""
    from waitress import serve as waitress_serve

    from app import worker

    app = current_app._get_current_object()
    stop = threading.Event()
    thread = threading.Thread(target=worker.run_forever, name="timers", daemon=True,
                              args=(_db(), _settings(), float(app.config["TIMER_POLL_SECONDS"]), stop))
    thread.start()
    click.echo(f"Sunlight on http://{host}:{port}/ (timer worker running)")
    try:
        waitress_serve(app, host=host, port=port, threads=8)
    finally:
        stop.set()


def register(app: Flask) -> None:
    for group in (db_cli, orgs_cli, users_cli, timers_cli, audit_cli):
        app.cli.add_command(group)
    app.cli.add_command(serve)
    app.cli.add_command(demo)
