"""HTML templates → PDF with WeasyPrint (pango draws the text; the Noto CJK fonts give it Chinese glyphs).

Templates are plain files a district can edit (app/documents/templates/, or a folder of its own named by
DOCUMENT_TEMPLATES_DIR whose files take precedence). They are rendered with autoescape and a sandbox: what
people typed (an applicant named `{{7*7}}`, `<script>`) prints as text, never as template or markup. The
renderer fetches nothing — no network, no files — whatever a template names.
"""
from __future__ import annotations

import logging
import threading
from functools import lru_cache
from pathlib import Path

from jinja2 import ChoiceLoader, FileSystemLoader, StrictUndefined, select_autoescape
from jinja2.sandbox import SandboxedEnvironment

log = logging.getLogger("sunlight.documents")
BUILT_IN = Path(__file__).resolve().parent / "templates"
_local = threading.local()  # a FontConfiguration per thread: reused, it saves ~25 ms a render; shared, not safe


class RendererMissing(RuntimeError):
    """WeasyPrint or the system libraries it needs (pango) are not installed."""


@lru_cache(maxsize=1)
def unavailable_because() -> str | None:
    """Why PDFs cannot be rendered here (None when they can)."""
    try:
        import weasyprint  # noqa: F401  (its import loads pango through cffi)
    except ImportError:
        return "the weasyprint package is not installed (pip install -r requirements.txt)"
    except OSError as exc:  # cffi could not open libpango / libgobject
        return f"WeasyPrint's system libraries are missing ({exc}); `make documents` installs them with apt-get"
    return None


@lru_cache(maxsize=8)
def environment(override_dir: str | None) -> SandboxedEnvironment:
    loaders = [FileSystemLoader(override_dir)] if override_dir else []
    return SandboxedEnvironment(loader=ChoiceLoader([*loaders, FileSystemLoader(str(BUILT_IN))]),
                                autoescape=select_autoescape(["html"], default=True), undefined=StrictUndefined)


def html(kind: str, context: dict, override_dir: str | None = None) -> str:
    return environment(override_dir).get_template(f"{kind}.html").render(**context)


def _refuse_fetch(url: str, *args, **kwargs):
    raise ValueError(f"documents fetch nothing ({url})")


def pdf(markup: str) -> bytes:
    reason = unavailable_because()
    if reason:
        raise RendererMissing(reason)
    from weasyprint import HTML
    from weasyprint.text.fonts import FontConfiguration

    if getattr(_local, "fonts", None) is None:
        _local.fonts = FontConfiguration()
    return HTML(string=markup, url_fetcher=_refuse_fetch).write_pdf(font_config=_local.fonts)
