"""The languages of the dashboard and the server's own texts in them (error messages), read
from the UI's catalogues in ``dashboard/i18n`` (keys ``error.<code>``), so the page and the
API say the same thing.

>>> error_message("not_found", "zh-CN")
'未找到'
>>> error_message("not_found", "en")
'Not found'
>>> pick_language("en-GB,en;q=0.9,zh;q=0.5", default="zh-CN")
'en'
>>> pick_language("fr-FR", default="zh-CN")
'zh-CN'
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Final

LANGUAGES: Final = ("zh-CN", "en")
"""The languages the UI ships (and a user, a contact or the hub may choose)."""
CATALOGUES = Path(__file__).with_name("i18n")


def check_language(value: str) -> str:
    """``value`` when it is one of :data:`LANGUAGES` (a ``ValueError`` otherwise, so
    pydantic validators turn it into a validation error)."""
    if value not in LANGUAGES:
        raise ValueError(f"unknown language {value!r}; one of {', '.join(LANGUAGES)}")
    return value


@functools.cache
def _catalogue(language: str) -> dict[str, str]:
    path = CATALOGUES / f"{language}.json"
    data: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
    return data


def error_message(code: str, language: str) -> str:
    """The text of error ``code`` in ``language`` (English, then the code, as fallbacks)."""
    key = f"error.{code}"
    lang = language if language in LANGUAGES else "en"
    return _catalogue(lang).get(key) or _catalogue("en").get(key) or code


def text(key: str, language: str) -> str:
    """The UI text of ``key`` in ``language`` (English, then the key, as fallbacks)."""
    lang = language if language in LANGUAGES else "en"
    return _catalogue(lang).get(key) or _catalogue("en").get(key) or key


def pick_language(accept_language: str | None, *, default: str) -> str:
    """The first of :data:`LANGUAGES` an ``Accept-Language`` header asks for (by quality,
    primary subtag), else ``default``."""
    if not accept_language:
        return default
    wanted: list[tuple[float, int, str]] = []
    for i, part in enumerate(accept_language.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        wanted.append((-q, i, tag.strip().lower()))
    for neg_q, _, tag in sorted(wanted):
        if neg_q >= 0:
            break  # q=0: "not this one", and everything after it is no better
        for lang in LANGUAGES:
            if tag == lang.lower() or tag.split("-")[0] == lang.split("-")[0].lower():
                return lang
    return default
