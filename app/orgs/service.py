"""People and places: org units, users, posts, API tokens, and who may see what."""
from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import Session, joinedload, lazyload, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from app import clock
from app.audit import service as audit
from app.db_batch import transaction_memo
from app.errors import Conflict, Forbidden, Invalid, NotFound, Unauthenticated

from .models import ORG_KINDS, ROLES, ApiToken, OrgUnit, User, UserPost

REGISTRY = "registry"  # the audit stream of people, org units and items
_CODE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
# A light shape check: one @, a dotted domain, and nothing that could split or forge a mail header.
_EMAIL = re.compile(r"^[^@\s<>,;:\"()\[\]\\]+@[^@\s<>,;:\"()\[\]\\]+\.[^@\s<>,;:\"()\[\]\\.]+$")
_hasher = PasswordHasher()


def create_org(session: Session, code: str, name: str, kind: str, parent_code: str | None, actor: str) -> OrgUnit:
    if not _CODE.match(code or ""):
        raise Invalid("an org code is 1–32 letters, digits, '-' or '_'")
    if kind not in ORG_KINDS:
        raise Invalid(f"kind must be one of {', '.join(ORG_KINDS)}")
    if session.scalar(select(OrgUnit).where(OrgUnit.code == code)):
        raise Conflict(f"org unit {code} exists already", code="duplicate")
    parent = None
    if parent_code:
        parent = org_by_code(session, parent_code)
    elif kind != "district":
        raise Invalid("a department or street needs --parent")
    org = OrgUnit(code=code, name=name, kind=kind, parent_id=parent.id if parent else None,
                  path=f"{parent.path if parent else '/'}{code}/")
    session.add(org)
    session.flush()
    audit.record(session, REGISTRY, "org_created", actor, detail={"code": code, "name": name, "kind": kind,
                                                                  "parent": parent_code})
    return org


def org_by_code(session: Session, code: str) -> OrgUnit:
    org = session.scalar(select(OrgUnit).where(OrgUnit.code == code))
    if org is None:
        raise NotFound(f"no org unit {code}")
    return org


def create_user(session: Session, username: str, role: str, org_code: str, posts: list[str],
                password: str | None, actor: str, email: str | None = None) -> User:
    if not re.match(r"^[A-Za-z0-9_.-]{1,64}$", username or ""):
        raise Invalid("a username is 1–64 letters, digits, '.', '-' or '_'")
    email = (email or "").strip() or None
    # ASCII only: an internationalised address needs SMTPUTF8, which many government relays lack.
    if email is not None and (len(email) > 200 or not email.isascii() or not _EMAIL.match(email)):
        raise Invalid("an email address looks like name@example.gov.cn (at most 200 characters)")
    if role not in ROLES:
        raise Invalid(f"role must be one of {', '.join(ROLES)}")
    if role == "system" and (password or posts):
        raise Invalid("a system user has neither a password nor posts: it works with its API token only")
    if session.scalar(select(User).where(User.username == username)):
        raise Conflict(f"user {username} exists already", code="duplicate")
    org = org_by_code(session, org_code)
    user = User(username=username, role=role, org_unit_id=org.id, created_at=clock.now(), email=email,
                password_hash=_hasher.hash(password) if password else None,
                posts=[UserPost(post=p.strip()) for p in dict.fromkeys(posts) if p.strip()])
    session.add(user)
    session.flush()
    audit.record(session, REGISTRY, "user_created", actor,
                 detail={"username": username, "role": role, "org": org_code, "posts": sorted(user.post_names)})
    return user


def user_by_name(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"no user {username}")
    return user


def _token_hash(token: str) -> str:
    # Tokens are 256-bit random strings, so a plain SHA-256 is enough to keep them unusable if the DB leaks.
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


MAX_TOKEN_DAYS = 3660


def issue_token(session: Session, user: User, actor: str, days: int | None = None) -> str:
    """Create a fresh API token, valid for `days` (None or 0: until revoked); it is returned once and only its
    hash is kept."""
    if days is not None and (not isinstance(days, int) or isinstance(days, bool) or not 0 <= days <= MAX_TOKEN_DAYS):
        raise Invalid(f"days must be a whole number from 0 (never expires) to {MAX_TOKEN_DAYS}",
                      details=[{"field": "days"}])
    token = "sl_" + secrets.token_urlsafe(32)
    now = clock.now()
    expires = now + timedelta(days=days) if days else None
    session.add(ApiToken(user_id=user.id, token_hash=_token_hash(token), created_at=now, expires_at=expires))
    audit.record(session, REGISTRY, "token_issued", actor,
                 detail={"username": user.username, "expires_at": expires.isoformat() if expires else None})
    return token


def tokens_of(session: Session, user: User) -> list[ApiToken]:
    """The user's tokens, newest first (revoked and expired ones too: what was issued stays on record)."""
    return list(session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)
                                .order_by(ApiToken.created_at.desc(), ApiToken.id.desc()).limit(200)))


def revoke_token(session: Session, user: User, token_id: int, actor: str) -> ApiToken:
    """Revoke one of the user's own tokens (another user's answers like one that does not exist)."""
    token = session.get(ApiToken, token_id) if isinstance(token_id, int) and 0 < token_id < 2**31 else None
    if token is None or token.user_id != user.id:
        raise NotFound(f"no token {token_id}")
    if token.revoked_at is None:
        token.revoked_at = clock.now()
        forget_tokens()
        audit.record(session, REGISTRY, "token_revoked", actor, detail={"username": user.username, "token_id": token.id})
    return token


def revoke_tokens(session: Session, user: User, actor: str) -> int:
    """Revoke every live token of the user and end their page sessions; returns how many tokens."""
    now = clock.now()
    tokens = list(session.scalars(select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))))
    for token in tokens:
        token.revoked_at = now
    forget_tokens()
    end_sessions(user)
    audit.record(session, REGISTRY, "tokens_revoked", actor, detail={"username": user.username, "count": len(tokens)})
    return len(tokens)


def end_sessions(user: User) -> None:
    """Every page session of the user ends (they carry the epoch they began in)."""
    user.session_epoch = (user.session_epoch or 0) + 1


# Built once: every API request runs it, and building a statement costs more than sending it (issue 14).
_BY_TOKEN = (select(User, ApiToken.expires_at).join(ApiToken, ApiToken.user_id == User.id)
             .where(ApiToken.token_hash == bindparam("token_hash"), ApiToken.revoked_at.is_(None),
                    or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > bindparam("now")))
             .options(joinedload(User.posts)))


def authenticate_token(session: Session, token: str | None, keep_seconds: float = 0.0) -> User:
    """The token's user. With `keep_seconds`, a token seen that recently in this process is not looked up again
    (TOKEN_CACHE_SECONDS): a revocation in this process takes effect at once, one on another node within that
    time; the token's expiry is checked on every use either way."""
    if not token:
        raise Unauthenticated("an API token is required: Authorization: Bearer <token>")
    key, now = (session.get_bind(), _token_hash(token)), clock.now()
    kept = _kept.get(key) if keep_seconds > 0 else None
    if kept is not None:
        kept_at, expires_at, user = kept
        if kept_at <= now < kept_at + timedelta(seconds=keep_seconds) and (expires_at is None or expires_at > now):
            return session.merge(user, load=False)  # a copy in this session, without a query
        _kept.pop(key, None)
    found = session.execute(_BY_TOKEN, {"token_hash": key[1], "now": now}).unique().first()
    if found is None:
        raise Unauthenticated("the API token is not valid (unknown, revoked or expired)")
    user, expires_at = found
    if keep_seconds > 0:
        if len(_kept) >= _KEPT_MAX:
            _kept.clear()
        _kept[key] = (now, expires_at, _detached_copy(user))
    return user


# (database, token hash) → (when it was looked up, the token's expiry, a detached copy of its user with org unit
# and posts). Users' roles, org units and posts are not edited in place anywhere; if that changes, forget_tokens.
_kept: dict[tuple, tuple] = {}
_KEPT_MAX = 10_000


def forget_tokens() -> None:
    """Tokens were revoked (or their users changed): look every token up again in this process."""
    _kept.clear()


def _detached_copy(user: User) -> User:
    """The user with its org unit and posts, as loaded, belonging to no session (each request merges a copy)."""
    copy = _detached(User, user)
    set_committed_value(copy, "org_unit", _detached(OrgUnit, user.org_unit))
    set_committed_value(copy, "posts", [_detached(UserPost, post) for post in user.posts])
    return copy


def _detached(cls, row):
    """A copy of the row's loaded columns, with its identity, in no session."""
    copy = cls(**{attr.key: getattr(row, attr.key) for attr in cls.__mapper__.column_attrs})
    make_transient_to_detached(copy)
    return copy


def check_password(user: User, password: str) -> bool:
    if not user.password_hash:
        return False
    try:
        return _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


_ORG_LANE = re.compile(r"^([A-Za-z0-9_-]{1,32}):(.+)$")


def split_lane(lane: str | None) -> tuple[str | None, str | None]:
    """A lane named `ORG:POST` (an org unit code, a colon, a post) hands its steps to that post in that org unit:
    ("CA02", "审查岗"); any other lane name is a post of the case's own org unit: (None, name)."""
    match = _ORG_LANE.match(lane or "")
    if match is None or not match.group(2).strip():
        return None, lane
    return match.group(1), match.group(2).strip()


def lane_target(session: Session, home: OrgUnit, lane: str | None) -> tuple[OrgUnit, str | None]:
    """The org unit and post that work a step of this lane (`home`: the case's org unit). An `ORG:POST` lane
    whose org unit does not exist stays at home under its full name (deploy refuses such lanes)."""
    code, post = split_lane(lane)
    if code is None:
        return home, lane
    org = transaction_memo(session, ("org_by_code", code),
                           lambda: session.scalar(select(OrgUnit).where(OrgUnit.code == code)))
    return (org, post) if org is not None else (home, lane)


def unknown_org_codes(session: Session, codes: set[str]) -> set[str]:
    """Which of these org unit codes name no org unit."""
    if not codes:
        return set()
    return codes - set(session.scalars(select(OrgUnit.code).where(OrgUnit.code.in_(codes))))


def can_see(user: User, org: OrgUnit) -> bool:
    """Staff see their own org unit and everything below it (a district supervisor sees all)."""
    return user.org_unit.contains(org)


def require_district_admin(user: User, what: str) -> None:
    """District-wide settings (the working-day calendar, the rules, the assessment scheme) are the district's:
    an admin of a department administers that department only."""
    if user.role != "admin" or user.org_unit.parent_id is not None:
        raise Forbidden(f"{what} is the district's: an admin of the district changes it")


# Recipients of notices need their id, name and address only: skip loading posts and org unit for each.
RECIPIENT_ONLY = (lazyload(User.posts), lazyload(User.org_unit))


def users_in_scope(session: Session, org: OrgUnit, role: str) -> list[User]:
    """Users of `role` whose org unit is `org` or one of its ancestors (they can see its cases).

    Asked once per transaction and org unit: the worker raises many notices in one transaction."""
    def query() -> list[User]:
        ancestors = [seg for seg in org.path.strip("/").split("/") if seg]
        return list(session.scalars(select(User).join(OrgUnit, User.org_unit_id == OrgUnit.id)
                                    .where(User.role == role, OrgUnit.code.in_(ancestors)).order_by(User.id)
                                    .options(*RECIPIENT_ONLY)))
    return list(transaction_memo(session, ("users_in_scope", org.id, role), query))


def clerks_for_lane(session: Session, org_unit_id: int, lane: str | None) -> list[User]:
    """The clerks who may work a task of this lane in this org unit (no lane: every clerk there).

    Asked once per transaction, org unit and lane (see users_in_scope)."""
    def query() -> list[User]:
        q = select(User).where(User.role == "clerk", User.org_unit_id == org_unit_id)
        if lane:
            q = q.join(UserPost, UserPost.user_id == User.id).where(UserPost.post == lane)
        return list(session.scalars(q.order_by(User.id).options(*RECIPIENT_ONLY)).unique())
    return list(transaction_memo(session, ("clerks_for_lane", org_unit_id, lane), query))
