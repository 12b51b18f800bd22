"""Org units (district → departments, streets), staff users, their posts (岗位) and API tokens."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base

ORG_KINDS = ("district", "department", "street")
# evaluator: 人大代表、政协委员 (assessment); system: another system's machine user (messages, external work)
ROLES = ("admin", "designer", "legal", "clerk", "supervisor", "evaluator", "system")


class OrgUnit(Base):
    __tablename__ = "org_units"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"))
    # Materialised path of codes, e.g. "/CA/CA01/": scope checks are one prefix comparison.
    path: Mapped[str] = mapped_column(String(500), index=True)

    def contains(self, other: "OrgUnit") -> bool:
        """True when `other` is this unit or lies below it (an ancestor sees its descendants)."""
        return other.path.startswith(self.path)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    password_hash: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(200))  # for the SMTP notice channel
    created_at: Mapped[datetime] = mapped_column()
    # Page sessions carry the epoch they began in; signing out (or revoking the user) moves it on, which ends
    # every session of the user on the server side — a copied cookie stops working at sign-out.
    session_epoch: Mapped[int] = mapped_column(default=0, server_default="0")

    org_unit: Mapped[OrgUnit] = relationship(lazy="joined")
    posts: Mapped[list["UserPost"]] = relationship(lazy="selectin", cascade="all, delete-orphan")

    @property
    def post_names(self) -> set[str]:
        return {p.post for p in self.posts}


class UserPost(Base):
    """A post (岗位) a clerk holds in their org unit; BPMN lane names name posts."""

    __tablename__ = "user_posts"
    __table_args__ = (UniqueConstraint("user_id", "post"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    post: Mapped[str] = mapped_column(String(100), index=True)


class ApiToken(Base):
    """Only the SHA-256 of a token is stored; the token itself is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()
    expires_at: Mapped[datetime | None] = mapped_column()  # None: never (tokens issued before expiry existed)
