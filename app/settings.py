"""What services need from configuration, without knowing about Flask."""
from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Settings:
    tz: ZoneInfo
    secret_key: str
    max_bpmn_bytes: int = 2 * 1024 * 1024
    leader_posts: tuple[str, ...] = ("分管领导", "主要领导", "负责人")  # posts that may approve an extension (延期)
    item_code_scheme: str = "{dept}-{type}-{serial:04d}"  # 事项编码 when an item is registered without a code

    @classmethod
    def from_config(cls, config) -> "Settings":
        return cls(tz=ZoneInfo(config["TIMEZONE"]), secret_key=config["SECRET_KEY"],
                   max_bpmn_bytes=int(config["MAX_BPMN_BYTES"]),
                   leader_posts=tuple(p.strip() for p in config["LEADER_POSTS"].split(",") if p.strip()),
                   item_code_scheme=config["ITEM_CODE_SCHEME"])
