"""Text that is safe to print: names from a snapshot or a vCenter are untrusted.

Two helpers, used by every renderer and by the error path, so that one rule holds everywhere:

- `printable` escapes control characters (C0, DEL, C1, Unicode line/paragraph separators and the
  bidirectional overrides), so a name can neither break a one-line error or a table row into several
  lines nor send an escape sequence to a terminal;
- `csv_safe` neutralises spreadsheet formulas in CSV cells (OWASP's CSV injection rule);
- `json_safe` makes JSON text terminal-safe: JSON escapes C0 controls itself, this escapes the rest.
"""

from __future__ import annotations

import re

__all__ = ["csv_safe", "json_safe", "printable"]

# C0 controls (\n, \r, \t, ESC…), DEL, C1 controls (0x80-0x9f, including the 8-bit CSI 0x9b), the
# Unicode line and paragraph separators, and the bidirectional embedding/override/isolate marks
# (which can make a name display as another).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _escape(m: re.Match[str]) -> str:
    code = ord(m.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    r"""``text`` with every control character written as an escape (``\x0a``, ``\x1b``, ``\u202e``).

    Ordinary text, including non-ASCII letters, is returned unchanged (and fast: one regex search).
    """
    if _CONTROL.search(text) is None:
        return text
    return _CONTROL.sub(_escape, text)


# What json.dumps(ensure_ascii=False) leaves raw: DEL, C1 controls, separators, bidi marks. In JSON
# text these can only occur inside strings, where \uXXXX is the same character.
_JSON_RAW = re.compile("[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def json_safe(text: str) -> str:
    """JSON text with the control characters JSON leaves raw written as ``\\uXXXX`` (same document)."""
    if _JSON_RAW.search(text) is None:
        return text
    return _JSON_RAW.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


#: First characters that make a spreadsheet read a cell as a formula (OWASP: =, +, -, @, tab, CR).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: object) -> object:
    """A CSV cell that a spreadsheet will not run as a formula.

    A string starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return gets a leading ``'``
    (OWASP's CSV injection rule); numbers and other values pass unchanged. A string that is a plain
    negative number (``-5``) is left alone: it is data, not a formula.
    """
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _is_number(value):
        return "'" + value
    return value


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return text.strip() == text and text[0] in "+-" and text[1:2].isdigit()
