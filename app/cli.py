"""The command-line door (`flask --app wsgi …`): operators' commands over the same services."""
from __future__ import annotations

import sys
import threading
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from app.errors import DomainError, NotFound
from app.messages.models import MESSAGE_STATUSES
from app.supervision.models import NOTICE_LEVELS, ORDER_STATUSES

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
    """Alembic to head, then the working-day calendar years the data package knows and the supervision rules."""
    from alembic import command

    from app.calendar import service as calendar
    from app.supervision import rules

    url = current_app.config["DATABASE_URL"]
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        Path(url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(), "head")
    with _db().unit_of_work() as s:
        years = calendar.seed_from_package(s)
        rules.seed(s)  # the supervision rules' rows, so admins see and configure them (never overwritten)
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
@click.option("--role", type=click.Choice(["admin", "designer", "legal", "clerk", "supervisor", "system"]), required=True,
              help="system: a machine user for another system (messages, external work, reading cases in scope)")
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
            token = orgs.issue_token(s, user, actor="cli", days=current_app.config["API_TOKEN_DAYS"])
    except DomainError as exc:
        _fail(exc)
    click.echo(f"user {username} ({role}) created in {org}")
    click.echo(token)


@users_cli.command("token")
@click.argument("username")
@click.option("--days", type=int, default=None,
              help="valid for this many days (default API_TOKEN_DAYS; 0: until revoked)")
def users_token(username, days):
    """Print a fresh API token for the user."""
    from app.orgs import service as orgs

    days = current_app.config["API_TOKEN_DAYS"] if days is None else days
    try:
        with _db().unit_of_work() as s:
            token = orgs.issue_token(s, orgs.user_by_name(s, username), actor="cli", days=days)
    except DomainError as exc:
        _fail(exc)
    click.echo(token)


@users_cli.command("revoke")
@click.argument("username")
def users_revoke(username):
    """Revoke every API token of the user (e.g. a system whose token leaked) and end their page sessions;
    `users token` issues a new one."""
    from app.orgs import service as orgs

    try:
        with _db().unit_of_work() as s:
            count = orgs.revoke_tokens(s, orgs.user_by_name(s, username), actor="cli")
    except DomainError as exc:
        _fail(exc)
    click.echo(f"{count} token(s) of {username} revoked; their page sessions ended")


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


calendar_cli = AppGroup("calendar", help="The working-day calendar: holidays and make-up working days (调休).")


@calendar_cli.command("show")
@click.argument("year", type=int)
def calendar_show(year):
    """Print a year's holidays and make-up working days, or say that it has not been entered."""
    from app.calendar import service as calendar

    try:
        with _db().unit_of_work() as s:
            out = calendar.get_year(s, year)
    except DomainError as exc:
        _fail(exc)
    if not out["known"]:
        click.echo(f"{year}: no calendar data (deadlines into {year} are counted on weekends alone)")
        return
    click.echo(f"{year} (source: {out['source']}, updated {out['updated_at'].isoformat()})")
    click.echo(f"holidays: {' '.join(out['holidays']) or '-'}")
    click.echo(f"workdays: {' '.join(out['workdays']) or '-'}")


@calendar_cli.command("set")
@click.argument("year", type=int)
@click.option("--holiday", "holidays", multiple=True, help="a public holiday (YYYY-MM-DD); repeatable")
@click.option("--workday", "workdays", multiple=True, help="a make-up working day (YYYY-MM-DD); repeatable")
@click.option("--source", default="admin", show_default=True, help="where the dates come from")
def calendar_set(year, holidays, workdays, source):
    """Replace a year's calendar (as an admin, audited) and move the deadlines of the open cases it touches."""
    from app.supervision import calendar_edits

    try:
        with _db().unit_of_work() as s:
            out = calendar_edits.set_year(s, _settings(), "cli", year, list(holidays), list(workdays), source)
    except DomainError as exc:
        _fail(exc)
    click.echo(f"{year}: {len(out['holidays'])} holiday(s), {len(out['workdays'])} make-up working day(s)")
    if out["ignored"]:
        click.echo(f"ignored (change nothing): {' '.join(out['ignored'])}")
    click.echo(f"{out['recomputed_cases']} case(s) had their deadlines moved")


@calendar_cli.command("seed")
def calendar_seed():
    """Load the years the chinesecalendar package knows and the database does not (never overwrites)."""
    from app.supervision import calendar_edits

    with _db().unit_of_work() as s:
        years, moved = calendar_edits.seed_years(s, _settings(), "cli")
    if not years:
        click.echo("nothing to load: every year the package knows is there already")
        return
    click.echo(f"loaded {', '.join(map(str, years))}; {moved} case(s) had their deadlines moved")


cases_cli = AppGroup("cases", help="Case operations for operators: clock stops, extensions, migration.")


def _as_user(session, username: str):
    from app.orgs import service as orgs

    return orgs.user_by_name(session, username)


def _case_action(action, username: str, case_no: str, body: dict) -> None:
    """Run a clock-stop service as the named user (the same rules as the API), report the deadlines."""
    from app.cases.models import Case

    try:
        with _db().unit_of_work() as s:
            result = action(s, _settings(), _as_user(s, username), case_no, body)
            case = result if isinstance(result, Case) else s.get(Case, result.case_id)  # an extension → its case
            click.echo(f"{case.case_no}: {case.status}; promised due {_when(case.promised_due_at)}, "
                       f"statutory due {_when(case.statutory_due_at)}")
    except DomainError as exc:
        _fail(exc)


def _when(moment) -> str:
    return f"{moment.astimezone(_settings().tz):%Y-%m-%d %H:%M %Z}" if moment else "-"


@cases_cli.command("suspend")
@click.argument("case_no")
@click.option("--as", "username", required=True, help="the clerk stopping the clock")
@click.option("--kind", required=True, type=click.Choice(["supplement", "hearing", "testing", "inspection",
                                                          "appraisal", "expert_review", "other"]))
@click.option("--reason", required=True)
@click.option("--legal-basis", default="")
@click.option("--expected-days", type=int, default=None)
@click.option("--missing", "missing", multiple=True, help="a missing material (补正); repeatable")
def cases_suspend(case_no, username, kind, reason, legal_basis, expected_days, missing):
    """Stop a case's clock (补正, hearing, testing, expert review…)."""
    from app.cases import clock_stops

    _case_action(clock_stops.suspend, username, case_no, {
        "kind": kind, "reason": reason, "legal_basis": legal_basis, "expected_days": expected_days,
        "missing_materials": list(missing)})


@cases_cli.command("resume")
@click.argument("case_no")
@click.option("--as", "username", required=True, help="the clerk restarting the clock")
@click.option("--note", default="")
def cases_resume(case_no, username, note):
    """Restart a stopped clock; deadlines move by the working days stopped."""
    from app.cases import clock_stops

    _case_action(clock_stops.resume, username, case_no, {"note": note})


@cases_cli.command("extend")
@click.argument("case_no")
@click.option("--as", "username", required=True, help="a leader (LEADER_POSTS) or an admin")
@click.option("--days", type=int, required=True, help="days added to the statutory limit, in its unit")
@click.option("--reason", required=True)
def cases_extend(case_no, username, days, reason):
    """Extend the statutory limit (延期), within the item's caps."""
    from app.cases import clock_stops

    _case_action(clock_stops.extend, username, case_no, {"days": days, "reason": reason})


def _end_command(how: str, who: str, summary: str, needs_basis: bool):
    @cases_cli.command(how, help=summary)
    @click.argument("case_no")
    @click.option("--as", "username", required=True, help=who)
    @click.option("--reason", required=True)
    @click.option("--legal-basis", default="", help="the law and article" + (" (required)" if needs_basis else ""))
    def command(case_no, username, reason, legal_basis):
        from app.cases import endings

        _case_action(lambda s, settings, user, no, body: endings.end(s, settings, user, no, how, body),
                     username, case_no, {"reason": reason, "legal_basis": legal_basis})

    return command


cases_refuse = _end_command("refuse", "a clerk of the case's department",
                            "不予受理: refuse a case before its acceptance step completed.", True)
cases_withdraw = _end_command("withdraw", "a clerk of the case's department",
                              "撤回: the applicant withdraws the application.", False)
cases_terminate = _end_command("terminate", "a leader (LEADER_POSTS) of the department or an admin",
                               "终止: terminate a case.", True)


@cases_cli.command("recount")
@click.option("--item", "item_code", default=None, help="only this item's cases")
@click.option("--actor", default="cli", help="the name recorded in the audit trail")
def cases_recount(item_code, actor):
    """Recompute the deadlines of every open case (after an upgrade changed how limits count); audited."""
    from app.catalog import service as catalog
    from app.cases.models import Case
    from app.cases import clocks

    try:
        with _db().unit_of_work() as s:
            where = [Case.accepted_at.is_not(None)]
            if item_code:
                where.append(Case.item_id == catalog.item_by_code(s, item_code).id)
            moved = clocks.recompute_open_cases(s, _settings(), where, "recount", actor)
    except DomainError as exc:
        _fail(exc)
    click.echo(f"{moved} case(s) got new deadlines")


@cases_cli.command("reproject")
@click.option("--item", "item_code", default=None, help="only this item's cases")
def cases_reproject(item_code):
    """Write the running cases' projections again from their workflows (run once after upgrading to migration
    0012: cases already waiting for a message or a service task then show it and can be reached by it)."""
    from sqlalchemy import select

    from app.catalog import service as catalog
    from app.cases import service as cases
    from app.cases.models import Case

    try:
        with _db().unit_of_work() as s:
            query = select(Case.id).where(Case.status == "running").order_by(Case.id)
            if item_code:
                query = query.where(Case.item_id == catalog.item_by_code(s, item_code).id)
            ids = list(s.scalars(query))
        changed = 0
        for start in range(0, len(ids), 100):  # a hundred cases per transaction
            with _db().unit_of_work() as s:
                changed += cases.reproject(s, _settings(), ids[start:start + 100])
    except DomainError as exc:
        _fail(exc)
    click.echo(f"{len(ids)} running case(s) reprojected, {changed} changed")


@cases_cli.command("migrate")
@click.option("--to", "definition_id", type=int, required=True, help="the published definition to move to")
@click.option("--case", "case_nos", multiple=True, help="a case number; repeatable (default: every running case)")
@click.option("--dry-run", is_flag=True, help="only check who could move")
@click.option("--actor", default=None, help="the admin recorded as moving them (default: the first admin)")
def cases_migrate(definition_id, case_nos, dry_run, actor):
    """Move running cases to another version of their flow, with a progress bar and a report."""
    from sqlalchemy import select

    from app.cases import migration
    from app.orgs.models import User

    with _db().unit_of_work() as s:
        query = select(User).where(User.role == "admin").order_by(User.id)
        admin = s.scalar(query.where(User.username == actor) if actor else query)
        if admin is None:
            click.echo("error: no such admin user", err=True)
            sys.exit(2)
        s.expunge(admin)

    def progress(items):
        with click.progressbar(items, label="moving cases" if not dry_run else "checking cases") as bar:
            yield from bar

    try:
        report = migration.migrate(_db(), _settings(), admin, definition_id, list(case_nos) or None, dry_run,
                                   progress)
    except DomainError as exc:
        _fail(exc)
    verb = "can move" if dry_run else "moved"
    click.echo(f"{len(report.moved)} {verb}, {len(report.refused)} refused")
    for refusal in report.refused:
        click.echo(f"  {refusal['case_no']}: {refusal['reason']}")


orders_cli = AppGroup("orders", help="督办 supervision orders: list, issue, reply, close, reopen (as a named user).")


def _order_line(order, case_no: str) -> str:
    return (f"#{order.id} {order.order_no} case {case_no} {order.status} due {order.due_at:%Y-%m-%d %H:%M %Z}"
            f"{' (escalated)' if order.escalated_at else ''}: {order.instruction}")


@orders_cli.command("list")
@click.option("--as", "username", required=True, help="whose view: a supervisor, clerk or admin")
@click.option("--status", type=click.Choice(ORDER_STATUSES), default=None)
@click.option("--case", "case_no", default=None)
def orders_list(username, status, case_no):
    """The orders the user can see, oldest first."""
    from app.cases import service as cases
    from app.supervision import orders

    try:
        with _db().unit_of_work() as s:
            user = _as_user(s, username)
            case_id = cases.get_visible(s, user, case_no).id if case_no else None
            found = orders.listing(s, user, status, case_id)
            numbers = cases.numbers_of(s, {o.case_id for o in found})
            for order in found:
                click.echo(_order_line(order, numbers[order.case_id]))
    except DomainError as exc:
        _fail(exc)


@orders_cli.command("issue")
@click.argument("case_no")
@click.option("--as", "username", required=True, help="the supervisor")
@click.option("--instruction", required=True)
@click.option("--due", "due_at", required=True, help="rectification deadline, e.g. 2026-12-01T17:00:00+08:00")
@click.option("--notice", "notice_id", type=int, default=None, help="the notice it follows up (optional)")
def orders_issue(case_no, username, instruction, due_at, notice_id):
    """Issue a 督办 order on a case."""
    from app.cases import service as cases
    from app.supervision import orders

    try:
        with _db().unit_of_work() as s:
            user = _as_user(s, username)
            case = cases.get_visible(s, user, case_no, for_update=True)
            order = orders.issue(s, user, case, notice_id, instruction, orders.parse_due(due_at),
                                 tz=_settings().tz)
            cases.save(s)
            click.echo(_order_line(order, case.case_no))
    except DomainError as exc:
        _fail(exc)


def _order_step(order_id: int, username: str, step) -> None:
    """One step on an order as the named user, with the same checks as the API."""
    from app.cases import service as cases
    from app.supervision import orders

    try:
        with _db().unit_of_work() as s:
            user = _as_user(s, username)
            order, case = orders.with_case(s, user, order_id)
            step(s, user, order, case)
            cases.save(s)
            click.echo(_order_line(order, case.case_no))
    except DomainError as exc:
        _fail(exc)


@orders_cli.command("reply")
@click.argument("order_id", type=int)
@click.option("--as", "username", required=True, help="a clerk of the case's department")
@click.option("--text", required=True)
def orders_reply(order_id, username, text):
    """Reply to an order (what was rectified)."""
    from app.supervision import orders

    _order_step(order_id, username, lambda s, u, o, c: orders.reply(s, u, o, c, text))


@orders_cli.command("close")
@click.argument("order_id", type=int)
@click.option("--as", "username", required=True, help="the supervisor")
@click.option("--text", required=True)
def orders_close(order_id, username, text):
    """Close an order (the rectification is accepted)."""
    from app.supervision import orders

    _order_step(order_id, username, lambda s, u, o, c: orders.close(s, u, o, c, text))


@orders_cli.command("reopen")
@click.argument("order_id", type=int)
@click.option("--as", "username", required=True, help="the supervisor")
@click.option("--text", required=True)
@click.option("--due", "due_at", default=None, help="a new deadline (optional)")
def orders_reopen(order_id, username, text, due_at):
    """Reopen an order (the reply did not satisfy), optionally with a new deadline."""
    from app.supervision import orders

    _order_step(order_id, username,
                lambda s, u, o, c: orders.reopen(s, u, o, c, text, orders.parse_due(due_at, required=False)))


notices_cli = AppGroup("notices", help="Supervision notices (电子监察): list and acknowledge, as a named user.")


@notices_cli.command("list")
@click.option("--as", "username", required=True, help="a clerk sees their own; a supervisor those in scope")
@click.option("--case", "case_no", default=None)
@click.option("--after", type=click.IntRange(0), default=0, help="only notices after this id (the next page)")
@click.option("--limit", type=click.IntRange(1, 200), default=200, help="at most this many (1–200)")
def notices_list(username, case_no, after, limit):
    """The notices the user sees, oldest first, a page at a time (the last line says how to get the next)."""
    from app.cases import service as cases
    from app.supervision import service as supervision

    try:
        with _db().unit_of_work() as s:
            user = _as_user(s, username)
            case_id = cases.get_visible(s, user, case_no).id if case_no else None
            found, recipients, more = supervision.notices_page(s, user, case_id=case_id, after=after, limit=limit)
            for n in found:
                acked = all(at for *_who, at in recipients[n.id])
                click.echo(f"#{n.id} {n.created_at:%Y-%m-%d %H:%M %Z} {n.level} "
                           f"{n.case_no or '(district)'}{' acknowledged' if acked else ''}: {n.reason}")
    except DomainError as exc:
        _fail(exc)
    if more:
        click.echo(f"more: --after {found[-1].id}")


@notices_cli.command("ack")
@click.argument("notice_id", type=int)
@click.option("--as", "username", required=True, help="a recipient of the notice")
def notices_ack(notice_id, username):
    """Acknowledge a notice (as one of its recipients)."""
    from app.supervision import service as supervision

    try:
        with _db().unit_of_work() as s:
            supervision.acknowledge(s, _as_user(s, username), notice_id)
    except DomainError as exc:
        _fail(exc)
    click.echo(f"notice #{notice_id} acknowledged by {username}")


rules_cli = AppGroup("rules", help="Supervision rules beyond time (R01–R04): show and configure.")


def _rule_line(rule) -> str:
    return f"{rule.code} {'on ' if rule.enabled else 'off'} {rule.level:7s} {rule.name} {rule.params}"


@rules_cli.command("list")
def rules_list():
    """Every rule with its level, switch and parameters."""
    from app.supervision import rules

    with _db().unit_of_work() as s:
        for rule in rules.catalogue(s):
            click.echo(_rule_line(rule))


@rules_cli.command("set")
@click.argument("code")
@click.option("--enable/--disable", "enabled", default=None)
@click.option("--level", type=click.Choice(NOTICE_LEVELS), default=None)
@click.option("--param", "params", multiple=True, help="KEY=VALUE (VALUE read as JSON when it is JSON); repeatable")
def rules_set(code, enabled, level, params):
    """Configure a rule (audited as `cli`); parameters not named keep their values."""
    import json

    from app.supervision import rules

    body: dict = {}
    if enabled is not None:
        body["enabled"] = enabled
    if level:
        body["level"] = level
    if params:
        body["params"] = {}
        for item in params:
            key, sep, raw = item.partition("=")
            if not sep:
                click.echo(f"error: --param {item!r} is not KEY=VALUE", err=True)
                sys.exit(2)
            try:
                body["params"][key] = json.loads(raw)
            except ValueError:
                body["params"][key] = raw
    try:
        with _db().unit_of_work() as s:
            rule = rules.configure(s, "cli", code, body)
    except DomainError as exc:
        _fail(exc)
    click.echo(_rule_line(rule))


files_cli = AppGroup("files", help="Uploaded materials (申请材料).")


@files_cli.command("prune")
@click.option("--days", type=click.IntRange(1, 3650), default=7, show_default=True,
              help="forget uploads never attached to a case and older than this")
def files_prune(days):
    """Remove uploads no case was ever opened with (rows audited; bytes no other upload shares)."""
    from datetime import timedelta

    from app.cases import files

    rows, removed = files.prune_orphans(_db(), _settings(), timedelta(days=days), "cli")
    click.echo(f"{rows} unattached upload(s) older than {days} day(s) forgotten; {removed} file(s) removed from disk")


messages_cli = AppGroup("messages", help="Messages to the applicant (告知) and their SMS delivery.")


def _masked(phone: str | None) -> str:
    """Enough of the number for an operator to recognise it, not enough to copy it out of a terminal."""
    if not phone:
        return "-"
    digits = phone.replace(" ", "")
    return digits[:3] + "****" + digits[-4:] if len(digits) > 7 else "****"


@messages_cli.command("list")
@click.option("--case", "case_no", default=None)
@click.option("--status", type=click.Choice(MESSAGE_STATUSES), default=None, help="e.g. failed: what keeps failing")
@click.option("--limit", type=click.IntRange(1, 100000), default=100, show_default=True, help="the latest N")
def messages_list(case_no, status, limit):
    """The latest messages, oldest first, with their delivery state (never the query code)."""
    from sqlalchemy import select

    from app.cases import service as cases
    from app.cases.models import Case
    from app.messages import service as messages

    with _db().unit_of_work() as s:
        case_id = s.scalar(select(Case.id).where(Case.case_no == case_no)) if case_no else None
        if case_no and case_id is None:
            click.echo(f"error: no case {case_no}", err=True)
            sys.exit(2)
        found = messages.listing(s, case_id, status, limit)
        numbers = cases.numbers_of(s, {m.case_id for m in found})
        for m in found:
            tries = f" after {m.attempts} attempt(s)" if m.attempts else ""
            problem = f" [{m.last_error}]" if m.last_error and m.status != "sent" else ""
            click.echo(f"#{m.id} {m.created_at:%Y-%m-%d %H:%M %Z} {numbers[m.case_id]} {m.kind} {m.status}{tries} "
                       f"to {_masked(m.phone)}{problem}: {m.text}")


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


assessment_cli = AppGroup("assessment", help="考核评估: a period's figures per department; publish; export.")


def _district_admin(s, username: str | None):
    """The admin the command acts as: the one named, or the first admin of the district."""
    from sqlalchemy import select

    from app.orgs.models import OrgUnit, User

    if username:
        return _as_user(s, username)
    user = s.scalar(select(User).join(OrgUnit, OrgUnit.id == User.org_unit_id)
                    .where(User.role == "admin", OrgUnit.parent_id.is_(None)).order_by(User.id))
    if user is None:
        raise NotFound("no admin of the district: create one with `users create … --role admin`")
    return user


def _assessment(label: str, username: str | None, version: int | None, publish: bool = False) -> dict:
    """Compute (or read, or publish) a period as the admin, with a progress bar over its aggregate queries."""
    from app.assessment import figures
    from app.assessment import service as assessment

    try:
        with _db().unit_of_work() as s:
            actor = _district_admin(s, username)
            if version is not None:
                return assessment.published(s, _settings(), actor, label, version)
            with click.progressbar(length=figures.STEPS, label=f"{label}: counting", file=sys.stderr) as bar:
                step = lambda _name: bar.update(1)  # noqa: E731
                if publish:
                    return assessment.publish(s, _settings(), actor, label, step)
                return assessment.draft(s, _settings(), actor, label, step)
    except DomainError as exc:
        _fail(exc)


def _pct(value) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def _print_report(out: dict) -> None:
    head = f"{out['period']} {out['status']}" + (f" v{out['version']}" if out["version"] else "")
    click.echo(f"{head}: {len(out['departments'])} department(s)")
    for d in out["departments"]:
        cards = d["cards"]
        click.echo(f"{d['rank']:>3} {d['org_code']:<8} {d['org_name']:<16} score {d['score'] if d['score'] is not None else '-':>5} "
                   f"{d['grade'] or '-':<4} accepted {d['cases_accepted']:>6} completed {d['cases_completed']:>6} "
                   f"on time {_pct(d['on_time_rate']):>6} cards {cards['warning']}/{cards['yellow']}/{cards['red']} "
                   f"online {_pct(d['online_run_rate']):>6}")


@assessment_cli.command("show")
@click.argument("period")
@click.option("--version", type=int, default=None, help="a published version (default: the live draft)")
@click.option("--as", "username", default=None, help="the viewer (default: the district's first admin)")
def assessment_show(period, version, username):
    """Print a period's figures per department (month 2026-11, quarter 2026-Q4, year 2026)."""
    _print_report(_assessment(period, username, version))


@assessment_cli.command("publish")
@click.argument("period")
@click.option("--as", "username", default=None, help="a district admin (default: the first)")
def assessment_publish(period, username):
    """Freeze the period's figures as its next version (audited)."""
    out = _assessment(period, username, None, publish=True)
    click.echo(f"published {out['period']} version {out['version']}")


@assessment_cli.command("export")
@click.argument("period")
@click.option("--xlsx", "path", required=True, type=click.Path(dir_okay=False, writable=True))
@click.option("--version", type=int, default=None)
@click.option("--as", "username", default=None)
def assessment_export(period, path, version, username):
    """Write the period's figures as an XLSX workbook."""
    from app.assessment import export

    out = _assessment(period, username, version)
    with open(path, "wb") as fh:
        fh.write(export.workbook(out))
    click.echo(f"wrote {len(out['departments'])} department(s) to {path}")


def register(app: Flask) -> None:
    for group in (db_cli, orgs_cli, users_cli, timers_cli, audit_cli, calendar_cli, cases_cli, orders_cli,
                  notices_cli, rules_cli, files_cli, messages_cli, assessment_cli):
        app.cli.add_command(group)
    app.cli.add_command(serve)
    app.cli.add_command(demo)
