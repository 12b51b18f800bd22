"""Rate limits (Flask-Limiter): storage from RATELIMIT_STORAGE_URI, so several app nodes can share one."""
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=True)
