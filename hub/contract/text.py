"""Control characters in contract strings, refused with ``control_character``.

JSON lets a device write any character as an escape (``"2.1\\u00000"``), but a control
character is never meaningful in a room name or a firmware version, and PostgreSQL cannot
keep U+0000 in ``text`` or ``jsonb`` at all. Refusing them here, with a code a vendor can
act on, means such a string never reaches the store.

A control character is one of Unicode category Cc: U+0000–U+001F and U+007F–U+009F. The
rule has two strengths, chosen on purpose:

- names and identifiers (``room``, ``door``, ``vendor``, ``model``, ``firmware``,
  ``capabilities``, ``reason``, command ids, keys of ``ext``) are single-line labels shown
  in consoles and logs: every control character is refused, tab and newline too;
- free text (a reply's ``detail``, string values inside ``ext``) may be a message written
  for a person or a vendor's own data: tab, line feed and carriage return are allowed
  there, every other control character is refused.

>>> check_name("bathroom")
'bathroom'
>>> check_name("2.1\\x000")
Traceback (most recent call last):
...
pydantic_core._pydantic_core.PydanticCustomError: control character U+0000 at position 3
>>> check_free_text("line one\\nline two")
'line one\\nline two'
"""

from __future__ import annotations

import re
from typing import Any

from pydantic_core import PydanticCustomError

from hub.contract import limits

_IN_NAMES = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_IN_FREE_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")

NAME_PATTERN = r"^[^\u0000-\u001f\u007f-\u009f]*$"
"""The names rule as a JSON Schema (ECMA-262) pattern, published in the schemas."""
FREE_TEXT_PATTERN = r"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]*$"
"""The free-text rule as a JSON Schema pattern."""


def _check(value: str, pattern: re.Pattern[str], where: str = "") -> str:
    found = pattern.search(value)
    if found is None:
        return value
    raise PydanticCustomError(
        "control_character",
        "control character {char} at position {pos}{where}",
        {"char": f"U+{ord(found.group()):04X}", "pos": found.start(), "where": where},
    )


def check_name(value: str) -> str:
    """Validator of names and identifiers: no control character at all."""
    return _check(value, _IN_NAMES)


def check_free_text(value: str) -> str:
    """Validator of free text: tab, line feed and carriage return allowed."""
    return _check(value, _IN_FREE_TEXT)


def check_ext_values(value: Any, path: str = "") -> None:
    """Walk a vendor ``ext`` object: keys follow the names rule, string values the free-text
    rule, integers fit in 64 bits (what the store's JSON writer takes). ``ext`` is at most a
    few kilobytes, so the walk is cheap."""
    if isinstance(value, str):
        _check(value, _IN_FREE_TEXT, f" in {path}" if path else "")
    elif isinstance(value, dict):
        for key, item in value.items():
            inner = f"{path}.{key}" if path else key
            _check(key, _IN_NAMES, f" in the key {key!r}" + (f" of {path}" if path else ""))
            check_ext_values(item, inner)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            check_ext_values(item, f"{path}[{i}]")
    elif isinstance(value, int) and not -limits.MAX_EXT_INT - 1 <= value <= limits.MAX_EXT_INT:
        raise PydanticCustomError(
            "ext_integer_range", "integer beyond 64 bits in {path}", {"path": path}
        )
