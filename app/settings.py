"""What services need from configuration, without knowing about Flask."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

DEFAULT_SMS_TEMPLATE = '{"phone": "{phone}", "text": "{text}", "id": "{id}"}'


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int = 25
    sender: str = "sunlight@localhost"
    user: str = ""
    password: str = field(default="", repr=False)  # never in a log line
    starttls: bool = False
    timeout: float = 10.0


@dataclass(frozen=True)
class SmsSettings:
    """The SMS gateway the applicant's messages go through (app/messages/sms.py)."""

    url: str
    token: str = field(default="", repr=False)  # a bearer token: never in a log line
    template: str = DEFAULT_SMS_TEMPLATE  # the JSON body; {phone} {text} {id} are filled into its strings
    signature: str = "【阳光运行】"  # 短信签名, put before the text
    timeout: float = 5.0


@dataclass(frozen=True)
class Settings:
    tz: ZoneInfo
    secret_key: str
    max_bpmn_bytes: int = 2 * 1024 * 1024
    leader_posts: tuple[str, ...] = ("分管领导", "主要领导", "负责人")  # posts that may approve an extension (延期)
    item_code_scheme: str = "{dept}-{type}-{serial:04d}"  # 事项编码 when an item is registered without a code
    smtp: SmtpSettings | None = None  # None: no mail channel (SMTP_HOST empty)
    file_storage_dir: str = "instance/files"  # uploaded materials, content-addressed (app/cases/files.py)
    max_file_bytes: int = 20 * 1024 * 1024
    sms: SmsSettings | None = None  # None: the applicant's messages are recorded and shown, never sent
    document_templates_dir: str | None = None  # a district's own document templates, before the built-in ones
    # What one action may ask of the engine, and what a diagram may ask for at deploy (app/engine/budget.py).
    evaluation_budget_seconds: float = 1.0
    max_multi_instances: int = 200
    max_timer_cycles: int = 100
    min_timer_cycle_seconds: float = 60.0
    max_script_chars: int = 4000
    upload_quota_bytes: int = 2 * 1024 ** 3  # one user's uploads in 24 hours (app/cases/files.py)
    token_cache_seconds: float = 0.0  # how long a process keeps a token's user (app/orgs/service.py)

    @property
    def notice_channels(self) -> tuple[str, ...]:
        """The outbox channels beyond the in-app inbox (which is always on) that new notices go out on."""
        return ("smtp",) if self.smtp else ()

    @classmethod
    def from_config(cls, config) -> "Settings":
        return cls(tz=ZoneInfo(config["TIMEZONE"]), secret_key=config["SECRET_KEY"],
                   max_bpmn_bytes=int(config["MAX_BPMN_BYTES"]),
                   leader_posts=tuple(p.strip() for p in config["LEADER_POSTS"].split(",") if p.strip()),
                   item_code_scheme=config["ITEM_CODE_SCHEME"], smtp=_smtp(config),
                   file_storage_dir=str(config.get("FILE_STORAGE_DIR") or "instance/files"),
                   max_file_bytes=int(config.get("MAX_FILE_BYTES") or 20 * 1024 * 1024), sms=_sms(config),
                   document_templates_dir=(config.get("DOCUMENT_TEMPLATES_DIR") or "").strip() or None,
                   token_cache_seconds=float(config.get("TOKEN_CACHE_SECONDS") or 0), **_engine_limits(config))


def _engine_limits(config) -> dict:
    """The engine's limits and the upload quota from config.py; a missing key keeps the default."""
    keys = {"EVALUATION_BUDGET_SECONDS": ("evaluation_budget_seconds", float),
            "MAX_MULTI_INSTANCES": ("max_multi_instances", int), "MAX_TIMER_CYCLES": ("max_timer_cycles", int),
            "MIN_TIMER_CYCLE_SECONDS": ("min_timer_cycle_seconds", float),
            "MAX_SCRIPT_CHARS": ("max_script_chars", int), "UPLOAD_QUOTA_BYTES": ("upload_quota_bytes", int)}
    return {name: kind(config[key]) for key, (name, kind) in keys.items() if config.get(key) is not None}


def _smtp(config) -> SmtpSettings | None:
    host = (config.get("SMTP_HOST") or "").strip()
    if not host:
        return None
    return SmtpSettings(host=host, port=int(config.get("SMTP_PORT") or 25),
                        sender=config.get("SMTP_FROM") or "sunlight@localhost", user=config.get("SMTP_USER") or "",
                        password=config.get("SMTP_PASSWORD") or "",
                        starttls=str(config.get("SMTP_STARTTLS", "0")).strip().lower() in ("1", "true", "yes"),
                        timeout=float(config.get("SMTP_TIMEOUT") or 10))


def _sms(config) -> SmsSettings | None:
    """The gateway, or None when SMS_GATEWAY_URL is empty. A bad URL or template stops the app at start,
    rather than every message failing later."""
    url = (config.get("SMS_GATEWAY_URL") or "").strip()
    if not url:
        return None
    if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc:
        raise ValueError(f"SMS_GATEWAY_URL must be an http(s) URL, not {url!r}")
    template = config.get("SMS_TEMPLATE") or DEFAULT_SMS_TEMPLATE
    try:
        json.loads(template)
    except ValueError as exc:
        raise ValueError(f"SMS_TEMPLATE is not valid JSON: {exc}") from None
    if "{phone}" not in template or "{text}" not in template:
        raise ValueError("SMS_TEMPLATE must place {phone} and {text} in its strings")
    signature = config.get("SMS_SIGNATURE")
    return SmsSettings(url=url, token=(config.get("SMS_GATEWAY_TOKEN") or "").strip(), template=template,
                       signature="【阳光运行】" if signature is None else signature,
                       timeout=float(config.get("SMS_TIMEOUT") or 5))
