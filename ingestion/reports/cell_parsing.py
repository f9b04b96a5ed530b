"""Pure parsing of the cell values officials type into DTI reports (docs/dti_reports.md).

Every function takes what a reader found (a Python value from openpyxl, or the text of a CSV
field) and returns a clean value or raises `CellError` with a message that says what was found
and what is expected. No I/O here, so each rule has its own unit test.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

# Spaces that Excel and Word paste into numbers and codes: NBSP, narrow NBSP, figure space,
# thin space, and zero-width characters.
_SPACES = {"\u00a0": " ", "\u202f": " ", "\u2007": " ", "\u2009": " ", "\u200b": "", "\ufeff": "", "\u2060": ""}
_SPACE_RE = re.compile("|".join(map(re.escape, _SPACES)))
# Control characters (C0 but tab, line feed and carriage return; DEL; C1) carry no meaning in a
# cell: a code made of NUL bytes is an empty code, not a value. Removed by clean_text.
_CONTROL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# For showing text people sent inside a message: every control character made visible.
_UNPRINTABLE_RE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")

EXCEL_EPOCH = dt.date(1899, 12, 30)


class CellError(ValueError):
    """A cell that cannot be read as what its field requires. `rule` is a short machine name."""

    def __init__(self, rule: str, message: str):
        super().__init__(message)
        self.rule = rule


def clean_text(value) -> str | None:
    """Text of a cell with NBSPs made plain, zero-width and control characters (NUL, ...) and
    Excel's leading apostrophe (the 'store as text' marker) removed, Unicode in NFC, outer spaces
    stripped. Empty means None: a cell of NUL bytes is an empty cell."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = unicodedata.normalize("NFC", str(value))
    text = _CONTROL_RE.sub("", text)
    text = _SPACE_RE.sub(lambda m: _SPACES[m.group(0)], text).strip()
    if text.startswith("'"):
        text = text[1:].strip()
    return text or None


def shown(text, limit: int = 120) -> str:
    """`text` as it may appear inside a message: control characters made visible (\\x00), cut
    at `limit` characters. Never put it at the start of a message (the sender chose it)."""
    text = _UNPRINTABLE_RE.sub(lambda m: f"\\x{ord(m.group(0)):02x}", str(text))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def is_blank(value) -> bool:
    return clean_text(value) is None


_GROUPED = re.compile(r"^\d{1,3}(?:[.,]\d{3})+$")


def _normalise_number_text(text: str) -> str:
    """'1.234,5' / '1,234.5' / '1 234,5' / '12,5' -> a Python float literal."""
    t = re.sub(r"(?<=\d)[ ](?=\d)", "", text)  # '1 234 567' (spaces as thousands separators)
    sign = ""
    if t[:1] in "+-":
        sign, t = ("-" if t[0] == "-" else ""), t[1:].strip()
    if not re.fullmatch(r"[\d.,]+", t) or not re.search(r"\d", t):
        raise ValueError(t)
    if "." in t and "," in t:
        decimal = "." if t.rfind(".") > t.rfind(",") else ","
        thousands = "," if decimal == "." else "."
        whole, frac = t.rsplit(decimal, 1)
        if not re.fullmatch(r"\d{1,3}(?:" + re.escape(thousands) + r"\d{3})*", whole):
            raise ValueError(t)
        return sign + whole.replace(thousands, "") + "." + frac
    sep = "." if "." in t else "," if "," in t else None
    if sep is None:
        return sign + t
    parts = t.split(sep)
    if len(parts) > 2:  # '1.234.567' or '1,234,567': thousands separators only
        if not _GROUPED.match(t):
            raise ValueError(t)
        return sign + t.replace(sep, "")
    whole, frac = parts
    if sep == "." and len(frac) == 3 and whole not in ("", "0") and not whole.startswith("0"):
        # Vietnamese usage: '15.000' is fifteen thousand. (A decimal point with exactly three
        # decimals is written '15,000' or '15.0005' would be needed; documented.)
        return sign + whole + frac
    # One comma is the Vietnamese decimal comma; one dot (not followed by exactly three
    # digits) a decimal point.
    return sign + (whole or "0") + "." + frac


@dataclass(frozen=True)
class Quantity:
    value: float
    is_percent: bool = False  # written with a % sign: value is already divided by 100


def parse_quantity(value) -> Quantity:
    """A number as officials write it: 1234.5 (a numeric cell), '1.234,5', '1,234.5', '12,5',
    '1 234', '85%', '85 %', '85,5%', '-3'. Raises CellError('not_a_number') otherwise."""
    if isinstance(value, bool):
        raise CellError("not_a_number", f"expected a number, found the logical value {value}")
    if isinstance(value, (int, float)):
        if value != value or value in (float("inf"), float("-inf")):
            raise CellError("not_a_number", f"expected a number, found {value}")
        return Quantity(float(value))
    text = clean_text(value)
    if text is None:
        raise CellError("missing_value", "the cell is empty")
    percent = False
    if text.endswith("%"):
        percent, text = True, text[:-1].strip()
    try:
        number = float(_normalise_number_text(text))
    except ValueError:
        raise CellError("not_a_number", f"expected a number (e.g. 1.234,5 or 85%), found {clean_text(value)!r}") from None
    return Quantity(number / 100 if percent else number, percent)


def parse_number(value) -> float:
    return parse_quantity(value).value


# Accepted spellings of yes/no (compared after NFC, lower case, outer spaces stripped).
TRUE_WORDS = frozenset({"có", "co", "x", "yes", "y", "true", "đúng", "đạt", "dat", "đã có", "1"})
FALSE_WORDS = frozenset({"không", "khong", "ko", "no", "n", "false", "sai", "chưa", "chưa có", "không đạt", "0"})


def parse_bool(value) -> bool:
    """'Có'/'Không' and the spellings in TRUE_WORDS/FALSE_WORDS, Excel TRUE/FALSE, 1/0.
    An empty cell is not 'Không': it raises CellError('missing_value')."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        if value in (0, 1):
            return bool(value)
        raise CellError("not_a_boolean", f"expected Có or Không, found the number {value:g}")
    text = clean_text(value)
    if text is None:
        raise CellError("missing_value", "the cell is empty")
    word = text.lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise CellError("not_a_boolean", f"expected Có or Không, found {text!r}")


_DATE_RE = re.compile(r"^(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{4})$")
_ISO_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[ T].*)?$")


def parse_date(value) -> dt.date:
    """An Excel date cell, an Excel serial number, 'dd/mm/yyyy' (also with '-' or '.'; day
    first, always), or ISO 'yyyy-mm-dd'."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if 20000 < value < 80000:  # 1954..2119 as Excel serial days
            return EXCEL_EPOCH + dt.timedelta(days=int(value))
        raise CellError("not_a_date", f"expected a date dd/mm/yyyy, found the number {value:g}")
    text = clean_text(value)
    if text is None:
        raise CellError("missing_value", "the cell is empty")
    try:
        if m := _DATE_RE.match(text):
            return dt.date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
        if m := _ISO_RE.match(text):
            return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        raise CellError("not_a_date", f"not a calendar date (dd/mm/yyyy, day first): {text!r}") from None
    raise CellError("not_a_date", f"expected a date dd/mm/yyyy, found {text!r}")


def parse_year(value) -> int:
    """2023, 2023.0, '2023', 'Năm 2023'."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and float(value).is_integer():
        year = int(value)
    else:
        text = clean_text(value)
        if text is None:
            raise CellError("missing_value", "the cell is empty")
        m = re.fullmatch(r"(?:năm\s*)?(\d{4})", text, flags=re.IGNORECASE)
        if not m:
            raise CellError("not_a_year", f"expected a year such as 2023, found {text!r}")
        year = int(m.group(1))
    if not 2000 <= year <= 2100:
        raise CellError("not_a_year", f"expected a year such as 2023, found {year}")
    return year


def parse_unit_code(value) -> str:
    """A unit code: provinces are two digits ('01'; Excel turns it into the number 1 unless the
    cell is text, so 1 and '1' mean '01'), ministries letters ('BTC', any case)."""
    text = clean_text(value)
    if text is None:
        raise CellError("missing_value", "the cell is empty")
    if text.isdigit():
        return text.zfill(2)
    if re.fullmatch(r"[A-Za-zĐđ]{2,12}", text):
        return text.upper()
    raise CellError("not_a_unit_code", f"expected a unit code such as 01 or BTC, found {text!r}")


def parse_indicator_code(value) -> str | None:
    """'7.3', '7.3.' and ' 7.3 ' are 7.3. A numeric cell 7.3 also. Empty means None."""
    if isinstance(value, float):
        value = f"{value:g}"
    text = clean_text(value)
    if text is None:
        return None
    return text.rstrip(".").replace(",", ".").strip()


def fold(text: str) -> str:
    """Lower case without diacritics, for matching labels ('Mã chỉ tiêu' == 'ma chi tieu')."""
    text = unicodedata.normalize("NFD", clean_text(text) or "").replace("đ", "d").replace("Đ", "D")
    return re.sub(r"\s+", " ", "".join(c for c in text if unicodedata.category(c) != "Mn")).lower().strip(" :")


# --------------------------------------------------------------------------------------------
# Text files: encoding by BOM, never by guessing.

class EncodingError(ValueError):
    pass


def decode_report_text(data: bytes) -> tuple[str, str]:
    """(text, encoding) of a CSV report. UTF-16 is recognised by its BOM, UTF-8 with or without
    BOM; anything else (cp1258, cp1252, Windows 'ANSI') is refused: guessing a legacy code page
    turns Vietnamese into mojibake without an error."""
    if data.startswith(b"\xef\xbb\xbf"):
        encoding = "utf-8-sig"
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"
    else:
        encoding = "utf-8"
        if data[:200].count(b"\x00") > 10:
            raise EncodingError("the file looks like UTF-16 without a byte-order mark; "
                                "save it again as 'CSV UTF-8' or 'Unicode Text'")
    try:
        return data.decode(encoding), encoding
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise EncodingError(
            f"not valid {encoding.upper()} (line {line}, byte {exc.start}): the file was probably saved "
            f"in a legacy code page (Windows-1258/1252); save it again as 'CSV UTF-8'") from None


def sniff_delimiter(line: str) -> str:
    """',' or ';' (Excel in a Vietnamese locale) or a tab, by count in the table header line."""
    counts = {d: line.count(d) for d in (",", ";", "\t")}
    return max(counts, key=lambda d: (counts[d], d == ","))
