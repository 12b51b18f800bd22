"""Load the demo district through the same services a real district uses (idempotent).

Org units, staff for every role, 668 powers with published flows, and cases in every state — created
by travelling the clock back and working them step by step, so every notice, card and order is real.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from app import clock, engine
from app.cases import service as cases
from app.catalog import service as catalog
from app.db import Database
from app.definitions import service as definitions
from app.orgs import service as orgs
from app.orgs.models import OrgUnit, User
from app.settings import Settings
from app.supervision import orders
from app.worker import sweep

from .catalogue import CLOCKS, DEPARTMENTS, FLOWS, MATERIALS, STREETS, items

BPMN = Path(__file__).resolve().parents[2] / "bpmn"
DISTRICT = ("CA", "崇安区")
PASSWORD = "sunlight-demo"
# Posts (岗位) per demo clerk of each department; lane names in bpmn/ name these posts.
CLERKS = {"window": ["窗口岗", "受理岗"], "review": ["审查岗", "法制审核岗", "复核岗"],
          "field": ["执法岗", "征收岗"], "lead": ["决定岗", "负责人", "分管领导"]}
# Data a demo clerk fills in at every step: it answers every gateway of the demo flows the usual way.
USUAL_ANSWERS = {"materials_complete": True, "site_check": False, "approved": True, "hearing_requested": False,
                 "penalty_decided": True, "needs_testing": False, "amount": 800}
# What a demo clerk decides at an item's decision_step, by category (a small fine: not a 重大执法决定).
USUAL_DECISIONS = {
    "licensing": {"outcome": "granted", "summary": "申请人符合法定条件，准予许可，有效期五年"},
    "penalty": {"outcome": "penalty", "summary": "警告，并处罚款八百元", "amount": 800},
    "enforcement": {"outcome": "other", "summary": "解除查封，退还扣押物品"},
}


def load(db: Database, settings: Settings, echo=print) -> bool:
    """Load everything unless the district exists already; returns whether it loaded."""
    with db.unit_of_work() as s:
        if s.scalar(select(OrgUnit.id).where(OrgUnit.code == DISTRICT[0])) is not None:
            echo("demo district present already: nothing to do")
            return False
    with db.unit_of_work() as s:
        _people(s)
    echo("org units and staff created")
    with db.unit_of_work() as s:
        count = _catalogue(s, settings)
    echo(f"{count} powers registered, each with a published flow")
    real_now = clock.now()
    try:
        _cases(db, settings, real_now)
    finally:
        clock.travel_to(None)
    echo("demo cases created in every state; sign in with the demo users (password: " + PASSWORD + ")")
    return True


def _people(s) -> None:
    orgs.create_org(s, DISTRICT[0], DISTRICT[1], "district", None, "demo")
    for dept in DEPARTMENTS:
        orgs.create_org(s, dept.code, dept.name, "department", DISTRICT[0], "demo")
    for code, name in STREETS:
        orgs.create_org(s, code, name, "street", DISTRICT[0], "demo")
    for username, role in (("admin", "admin"), ("designer", "designer"), ("legal", "legal"),
                           ("jiwei", "supervisor"), ("daibiao", "evaluator"), ("weiyuan", "evaluator")):
        orgs.create_user(s, username, role, DISTRICT[0], [], PASSWORD, "demo")
    for dept in DEPARTMENTS:
        signed_in = dept.code == "CA01"  # passwords (slow to hash by design) only where the demo is walked
        for suffix, posts in CLERKS.items():
            orgs.create_user(s, f"{dept.code.lower()}_{suffix}", "clerk", dept.code, posts,
                             PASSWORD if signed_in else None, "demo")
        orgs.create_user(s, f"{dept.code.lower()}_jiancha", "supervisor", dept.code, [],
                         PASSWORD if signed_in else None, "demo")


def _catalogue(s, settings: Settings) -> int:
    designer, legal = orgs.user_by_name(s, "designer"), orgs.user_by_name(s, "legal")
    flows = {cat: (BPMN / name).read_bytes() for cat, (name, _, _) in FLOWS.items()}
    count = 0
    for it in items():
        _, promised, statutory = FLOWS[it.category]
        body = {"name": it.name, "category": it.category, "department": it.department.code,
                "promised_days": promised, "statutory_days": statutory,
                "kind": "immediate" if it.category == "other" else "promised",
                # "区市场监督管理局" after "崇安区政务服务中心": the 区 is said once (…中心市场监督管理局窗口)
                "accepting_authority": f"崇安区政务服务中心{it.department.name.removeprefix('区')}窗口",
                "implementing_body": it.department.name, "supervision_phone": "0510-82701234",
                "fee": "依法收取" if it.category == "levy" else "不收费",
                "legal_basis": f"{it.department.law}第{it.article}条",
                "materials": [{"name": n, "required": r, "copies": c} for n, r, c in MATERIALS[it.category]],
                **CLOCKS[it.category]}
        if it.category == "penalty":
            body["special_procedures"] = [{"name": "听证", "legal_basis": "《中华人民共和国行政处罚法》第六十四条",
                                           "days": 20}]
        item = catalog.create_item(s, designer, body, settings.item_code_scheme)
        d = definitions.upload(s, designer, item.code, flows[it.category], limit=settings.max_bpmn_bytes,
                               tz=settings.tz, limits=engine.limits_of(settings))
        definitions.submit(s, designer, d.id, settings.tz)
        definitions.review(s, legal, d.id, "approve", "经法制审核，符合法定权限和程序")
        count += 1
    return count


def _work(db: Database, settings: Settings, case_no: str, steps: int, minutes_between: int = 90) -> None:
    """Complete the next `steps` ready steps of a case as the clerks who hold their lanes would."""
    for _ in range(steps):
        clock.advance(timedelta(minutes=minutes_between))
        with db.unit_of_work() as s:
            case = cases.get_visible(s, orgs.user_by_name(s, "admin"), case_no)
            ready = [t for t in case.tasks if t.state == "ready" and t.kind == "user"]
            if not ready:
                return
            task = ready[0]
            clerk = _clerk_for(s, case.org_unit_id, task.lane)
            decision = ({**USUAL_DECISIONS[case.item.category], "legal_basis": case.item.legal_basis}
                        if task.bpmn_id == case.item.decision_step else None)
            cases.complete_task(s, settings, clerk, case_no, task.id, USUAL_ANSWERS, "经审查，符合规定",
                                decision=decision)
        sweep(db, settings)


def _ask_for_supplement(db: Database, settings: Settings, case_no: str, missing: list[str]) -> None:
    """收件 finds the materials incomplete; the 一次性告知补正 step tells everything missing and stops the clock."""
    for bpmn_id, data, extra in (("Task_receive", {"materials_complete": False}, None), ("Task_supplement", {}, missing)):
        clock.advance(timedelta(minutes=3))
        with db.unit_of_work() as s:
            window = orgs.user_by_name(s, "ca01_window")
            case = cases.get_visible(s, window, case_no)
            task = next(t for t in case.tasks if t.bpmn_id == bpmn_id and t.state == "ready")
            cases.complete_task(s, settings, window, case_no, task.id, data, "申请材料不齐全，一次性告知补正", extra)


def _clerk_for(s, org_unit_id: int, lane: str | None) -> User:
    return orgs.clerks_for_lane(s, org_unit_id, lane)[0]


def _open_case(db: Database, settings: Settings, item_code: str, applicant: str) -> str:
    with db.unit_of_work() as s:
        item = catalog.item_by_code(s, item_code)
        clerk = _clerk_for(s, item.org_unit_id, "窗口岗")
        case, _ = cases.create_case(s, settings, clerk, {
            "item_code": item_code, "applicant": {"name": applicant, "id_number": "91320200MA1DEMO00X",
                                                  "phone": "13900000000", "kind": "organisation"}, "data": {}})
        return case.case_no


def _at(days_ago: int, real_now: datetime) -> datetime:
    return (real_now - timedelta(days=days_ago)).replace(hour=1, minute=30, second=0, microsecond=0)


def _cases(db: Database, settings: Settings, real_now: datetime) -> None:
    """Cases in every state, worked in the past so their notices, cards and orders are the real outcome."""
    licence, penalty = "CA01-XK-0001", "CA01-CF-0001"
    stories = [  # (item, applicant, days ago, steps to work)
        (licence, "无锡市惠民食品有限公司", 40, 99),   # completed
        (licence, "崇安寺小吃店", 30, 2),              # overdue at review: step timer, yellow and red cards
        (penalty, "某建材经营部", 20, 3),              # a penalty under way
        (licence, "通江街道便民超市", 2, 1),            # running on time
        (licence, "广益烘焙坊", 6, 0),                  # suspended for 补正
        ("CA02-XK-0001", "江海路户外广告公司", 12, 1),  # another department
        ("CA01-CF-0002", "崇安寺餐饮管理有限公司", 25, 99),  # a penalty decided: its 决定书, published (双公示)
    ]
    made = []
    for item_code, applicant, days_ago, steps in stories:
        clock.travel_to(_at(days_ago, real_now))
        case_no = _open_case(db, settings, item_code, applicant)
        _work(db, settings, case_no, steps)
        made.append(case_no)
    clock.travel_to(_at(5, real_now))
    _ask_for_supplement(db, settings, made[4], ["场所使用证明", "法定代表人身份证明"])
    clock.travel_to(_at(4, real_now))
    with db.unit_of_work() as s:
        jiwei = orgs.user_by_name(s, "jiwei")
        case = cases.get_visible(s, jiwei, made[1], for_update=True)
        orders.issue(s, jiwei, case, None, "该件审查环节已超时，请说明原因并于两日内整改", _at(2, real_now),
                     tz=settings.tz)
        cases.save(s)
    clock.travel_to(real_now)
    sweep(db, settings)
    _evaluation(db, settings)


def _evaluation(db: Database, settings: Settings) -> None:
    """人大代表、政协委员评议 of last month: a campaign over three departments, one deputy's answers in."""
    from app.assessment import evaluations

    today = clock.now().astimezone(settings.tz)
    year, month = (today.year - 1, 12) if today.month == 1 else (today.year, today.month - 1)
    with db.unit_of_work() as s:
        admin = orgs.user_by_name(s, "admin")
        campaign = evaluations.create(s, settings, admin, {
            "period": f"{year:04d}-{month:02d}", "title": f"{year}年{month}月人大代表、政协委员评议",
            "evaluators": ["daibiao", "weiyuan"], "departments": ["CA01", "CA02", "CA03"]})
        campaign_id = campaign.id
    with db.unit_of_work() as s:
        deputy = orgs.user_by_name(s, "daibiao")
        for code, score, comment in (("CA01", 92, "窗口服务规范，办理效率高"), ("CA02", 78, "户外广告审批偏慢")):
            evaluations.respond(s, deputy, campaign_id, {"department": code, "score": score, "comment": comment})
