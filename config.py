"""Configuration from the environment (see README "Configuration")."""
import os
import secrets
from pathlib import Path

ROOT = Path(__file__).resolve().parent
INSTANCE = ROOT / "instance"


def _secret_key() -> str:
    """SECRET_KEY from the environment, else one generated once and kept under instance/ (dev only)."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    INSTANCE.mkdir(exist_ok=True)
    path = INSTANCE / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


class Config:
    DATABASE_URL = os.environ.get("DATABASE_URL", f"sqlite:///{INSTANCE / 'sunlight.db'}")
    TIMEZONE = os.environ.get("TIMEZONE", "Asia/Shanghai")
    TIMER_POLL_SECONDS = float(os.environ.get("TIMER_POLL_SECONDS", "0.5"))
    # Uploads of BPMN beyond this size are refused with 413 before any parsing.
    MAX_BPMN_BYTES = int(os.environ.get("MAX_BPMN_BYTES", str(2 * 1024 * 1024)))
    # Any request body beyond this is refused with 413 by Werkzeug itself.
    MAX_CONTENT_LENGTH = int(os.environ.get("MAX_CONTENT_LENGTH", str(8 * 1024 * 1024)))
    # Uploaded materials: stored by SHA-256 under FILE_STORAGE_DIR; one file at most MAX_FILE_BYTES (413 beyond).
    FILE_STORAGE_DIR = os.environ.get("FILE_STORAGE_DIR", str(INSTANCE / "files"))
    MAX_FILE_BYTES = int(os.environ.get("MAX_FILE_BYTES", str(20 * 1024 * 1024)))
    # One user's uploads in the last 24 hours; beyond it 413 upload_quota naming the quota.
    UPLOAD_QUOTA_BYTES = int(os.environ.get("UPLOAD_QUOTA_BYTES", str(2 * 1024 ** 3)))
    # Document templates a district edits (受理通知书, 决定书…): files here override app/documents/templates/.
    DOCUMENT_TEMPLATES_DIR = os.environ.get("DOCUMENT_TEMPLATES_DIR", "")
    # A budget for every action (a step, an API call, a timer the worker fires): CPU seconds of expression
    # evaluation and engine steps (the thread's own, inside the engine) before the action is refused with 422 too_expensive and rolled back (the worker postpones
    # the case with a timer_error event). See app/engine/budget.py.
    EVALUATION_BUDGET_SECONDS = float(os.environ.get("EVALUATION_BUDGET_SECONDS", "1.0"))
    # Deploy-time limits on diagrams (422 invalid_bpmn naming the element and line); the instance cap also holds
    # at run time, for counts that come from case data.
    MAX_MULTI_INSTANCES = int(os.environ.get("MAX_MULTI_INSTANCES", "200"))  # instances of one multi-instance step
    MAX_TIMER_CYCLES = int(os.environ.get("MAX_TIMER_CYCLES", "100"))  # repetitions of a cycle timer (R100/PT1H)
    MIN_TIMER_CYCLE_SECONDS = float(os.environ.get("MIN_TIMER_CYCLE_SECONDS", "60"))  # shortest cycle interval
    MAX_SCRIPT_CHARS = int(os.environ.get("MAX_SCRIPT_CHARS", "4000"))  # a script or condition (4000 at most)
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    # How many reverse proxies in front of the app set X-Forwarded-For/-Proto (0: none, the headers are ignored).
    # Behind nginx set 1, or every client shares the proxy's address and its rate limits.
    TRUSTED_PROXIES = int(os.environ.get("TRUSTED_PROXIES", "0"))
    PUBLIC_QUERY_RATE = os.environ.get("PUBLIC_QUERY_RATE", "30/minute")
    LOGIN_RATE = os.environ.get("LOGIN_RATE", "10/minute")  # sign-in attempts per address on /login
    ITEM_CODE_SCHEME = os.environ.get("ITEM_CODE_SCHEME", "{dept}-{type}-{serial:04d}")
    LEADER_POSTS = os.environ.get("LEADER_POSTS", "分管领导,主要领导,负责人")  # may approve extensions (延期)
    JSON_AS_ASCII = False
    # Session cookies: HttpOnly and SameSite=Lax always; Secure when served over HTTPS (set it to 1 in production
    # behind a TLS-terminating proxy), so the cookie never travels in clear.
    SESSION_COOKIE_SECURE = os.environ.get("SESSION_COOKIE_SECURE", "0") == "1"
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_HTTPONLY = True
    # A page session ends after SESSION_HOURS however active (a forgotten window at a counter), and at sign-out on
    # the server too: signing out ends the user's sessions everywhere, so a copied cookie is worth nothing after it.
    SESSION_HOURS = int(os.environ.get("SESSION_HOURS", "12"))
    # API tokens issued from now on expire after API_TOKEN_DAYS (0: never); `users token --days N` sets one's own.
    API_TOKEN_DAYS = int(os.environ.get("API_TOKEN_DAYS", "90"))
    # Each app process keeps a token's user this many seconds (0: looks every token up on every request). A
    # revocation on the same process takes effect at once; one made on another node or by the CLI within this time.
    TOKEN_CACHE_SECONDS = float(os.environ.get("TOKEN_CACHE_SECONDS", "5"))
    # Supervision notices by mail: the "smtp" channel is on only when SMTP_HOST is set (see app/supervision/channels.py).
    SMTP_HOST = os.environ.get("SMTP_HOST", "")
    SMTP_PORT = int(os.environ.get("SMTP_PORT", "25"))
    SMTP_FROM = os.environ.get("SMTP_FROM", "sunlight@localhost")
    SMTP_USER = os.environ.get("SMTP_USER", "")
    SMTP_PASSWORD = os.environ.get("SMTP_PASSWORD", "")
    SMTP_STARTTLS = os.environ.get("SMTP_STARTTLS", "0") == "1"
    SMTP_TIMEOUT = float(os.environ.get("SMTP_TIMEOUT", "10"))  # seconds per socket operation
    # Messages to the applicant by SMS: sent only when SMS_GATEWAY_URL is set (see app/messages/sms.py);
    # otherwise they are recorded and shown on the public progress page as "unsent".
    SMS_GATEWAY_URL = os.environ.get("SMS_GATEWAY_URL", "")
    SMS_GATEWAY_TOKEN = os.environ.get("SMS_GATEWAY_TOKEN", "")  # sent as Authorization: Bearer …
    SMS_TEMPLATE = os.environ.get("SMS_TEMPLATE", '{"phone": "{phone}", "text": "{text}", "id": "{id}"}')
    SMS_SIGNATURE = os.environ.get("SMS_SIGNATURE", "【阳光运行】")  # 短信签名, before the text
    SMS_TIMEOUT = float(os.environ.get("SMS_TIMEOUT", "5"))  # seconds per request

    def __init__(self) -> None:
        self.SECRET_KEY = _secret_key()
