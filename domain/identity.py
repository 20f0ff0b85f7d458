"""Identity document numbers of parties: each type checked by its own standard (issue 10 item 5).

- 居民身份证: GB 11643-1999, 18 characters: a region code, a birth date, a sequence, an ISO 7064 MOD 11-2 check
  character. The 15-digit first-generation card is refused: it stopped being valid on 2013-01-01 (公安部公告), and
  a number without a check digit cannot be checked.
- 港澳台居民居住证: the same structure with the region code 810000 (香港), 820000 (澳门) or 830000 (台湾).
- 外国人永久居留身份证: the 2023 card, 18 digits, "9", the province of issue, a nationality code, a birth date, a
  sequence and a MOD 11-2 check digit; the older card's 15 characters (three letters, twelve digits) by shape.
- 港澳居民来往内地通行证: H (香港) or M (澳门) and 8 digits (10 on the older card).
- 台湾居民来往大陆通行证: 8 digits (10 on the older card).
- 护照: 5 to 17 letters and digits (foreign passports differ too much to check more).
- 统一社会信用代码: GB 32100-2015, 18 characters of its 31-character set with its own MOD 31 check character.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Literal, get_args

from domain.errors import InvalidInput

IdType = Literal[
    "resident_id",
    "residence_permit",
    "foreign_permanent_resident",
    "hk_macao_permit",
    "taiwan_permit",
    "passport",
    "credit_code",
]
ID_TYPES: tuple[IdType, ...] = get_args(IdType)
RESIDENT_ID: IdType = "resident_id"

ID_TYPE_LABELS: dict[IdType, str] = {
    "resident_id": "居民身份证",
    "residence_permit": "港澳台居民居住证",
    "foreign_permanent_resident": "外国人永久居留身份证",
    "hk_macao_permit": "港澳居民来往内地通行证",
    "taiwan_permit": "台湾居民来往大陆通行证",
    "passport": "护照",
    "credit_code": "统一社会信用代码",
}

# Province-level codes of GB/T 2260 that mainland resident IDs carry (71 台湾 issues none; 81-83 are the permits').
PROVINCES = frozenset(
    {"11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37"}
    | {"41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65"}
)
PERMIT_REGIONS = {"810000": "香港", "820000": "澳门", "830000": "台湾"}
EARLIEST_BIRTH = date(1890, 1, 1)

_MOD11_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))  # 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2
_MOD11_CHECK = "10X98765432"  # by the weighted sum mod 11
# GB 32100: the 31 characters (no I, O, S, V, Z) and the weights 3^i mod 31.
_CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
_CREDIT_AUTHORITIES = frozenset("123456789ANY")  # 登记管理部门代码


@dataclass(frozen=True)
class IdDocument:
    """A checked number in its stored form (half-width, upper case, no spaces) with its type."""

    id_type: IdType
    number: str

    @property
    def label(self) -> str:
        return ID_TYPE_LABELS[self.id_type]


def normalise(raw: str) -> str:
    """Half-width, upper case (the check character X is often typed lower case), without spaces or dashes."""
    text = unicodedata.normalize("NFKC", raw)
    return re.sub(r"[\s\-]", "", text).upper()


def mod11_check(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character of 17 digits (GB 11643)."""
    return _MOD11_CHECK[sum(int(c) * w for c, w in zip(first17, _MOD11_WEIGHTS, strict=True)) % 11]


def credit_code_check(first17: str) -> str:
    """The GB 32100 check character of the first 17 characters of a 统一社会信用代码."""
    total = sum(_CREDIT_CHARS.index(c) * w for c, w in zip(first17, _CREDIT_WEIGHTS, strict=True))
    return _CREDIT_CHARS[(31 - total % 31) % 31]


def guess_type(number: str) -> IdType:
    """The type a number given without one most likely has: a valid resident ID, 81/82/83 → residence permit, a
    valid credit code, a valid 2023 permanent residence card; 18 characters with letters → credit code; else a
    resident ID (whose check then names the problem)."""
    text = normalise(number)
    if len(text) == 18 and text[:6] in PERMIT_REGIONS:
        return "residence_permit"
    if _resident_problem(text, date.max) is None:
        return RESIDENT_ID
    if len(text) == 18:
        if _credit_code_problem(text) is None:
            return "credit_code"
        if text.startswith("9") and _foreign_problem(text, date.max) is None:
            return "foreign_permanent_resident"
        if not re.fullmatch(r"\d{17}[\dX]", text):
            return "credit_code"
    return RESIDENT_ID


def check_id_number(raw: str, id_type: IdType | None = None, *, today: date) -> IdDocument:
    """Return the number normalised with its type, or raise InvalidInput naming the problem in Chinese (never
    repeating the number).
    Without a type, the type is guessed (``guess_type``). ``today``: birth dates after it are refused."""
    number = normalise(raw)
    if not number:
        raise InvalidInput("证件号码为空", kind="InvalidIdNumber")
    kind = id_type or guess_type(number)
    problem = _PROBLEM[kind](number, today)
    if problem:
        shape = problem.startswith(("长度不符", "格式错误"))
        hint = "；如为其他证件，请注明证件类型（id_type）" if shape and not id_type else ""
        noun = ID_TYPE_LABELS[kind] if kind == "credit_code" else f"{ID_TYPE_LABELS[kind]}号码"
        raise InvalidInput(f"{noun}{problem}{hint}", kind="InvalidIdNumber")
    return IdDocument(id_type=kind, number=number)


def _birth_problem(digits: str, today: date) -> str | None:
    try:
        born = date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        return f"出生日期无效（{digits[:4]}年{digits[4:6]}月{digits[6:8]}日不存在）"
    if born > today:
        return f"出生日期无效（{born.isoformat()}晚于今天）"
    if born < EARLIEST_BIRTH:
        return f"出生日期无效（{born.isoformat()}早于{EARLIEST_BIRTH.year}年）"
    return None


def _gb11643_problem(number: str, today: date) -> str | None:
    """Length, characters, birth date, check character, in that order: the first problem found."""
    if len(number) != 18:
        return f"长度不符（应为18位，实为{len(number)}位）"
    if not re.fullmatch(r"\d{17}[\dX]", number):
        return "格式错误（前17位应为数字，最后一位为数字或X）"
    if problem := _birth_problem(number[6:14], today):
        return problem
    if mod11_check(number[:17]) != number[17]:
        return "校验位错误（最后一位与前17位不符，请核对）"
    return None


def _resident_problem(number: str, today: date) -> str | None:
    if len(number) == 15 and number.isdigit():
        return "长度不符（15位第一代身份证已于2013年1月1日停止使用，请填写18位号码）"
    if len(number) == 18 and number[:6] in PERMIT_REGIONS:
        return "以81、82、83开头，属于港澳台居民居住证，请选择该证件类型"
    if re.fullmatch(r"\d{17}[\dX]", number) and number[:2] not in PROVINCES:
        return f"地区码无效（{number[:2]}不是省级行政区代码）"
    return _gb11643_problem(number, today)


def _permit_problem(number: str, today: date) -> str | None:
    if len(number) == 18 and number[:6] not in PERMIT_REGIONS:
        return "地区码无效（港澳台居民居住证号码以810000、820000或830000开头）"
    return _gb11643_problem(number, today)


def _foreign_problem(number: str, today: date) -> str | None:
    if len(number) == 15:
        if re.fullmatch(r"[A-Z]{3}\d{12}", number):
            return None  # the 2004 card: three letters of the nationality, then digits
        return "格式错误（旧版证件号码应为3位字母加12位数字）"
    if len(number) != 18:
        return f"长度不符（应为18位，2017年前的旧版为15位；实为{len(number)}位）"
    if not number.startswith("9"):
        return "格式错误（新版证件号码以9开头）"
    if number[1:3] not in PROVINCES:
        return f"地区码无效（{number[1:3]}不是省级行政区代码）"
    return _gb11643_problem(number, today)


def _hk_macao_problem(number: str, _: date) -> str | None:
    if not number or number[0] not in "HM":
        return "格式错误（应以H或M开头）"
    if len(number) not in (9, 11):
        return f"长度不符（应为H或M加8位数字，旧版加10位；实为{len(number)}位）"
    if not number[1:].isdigit():
        return "格式错误（H或M之后应为数字）"
    return None


def _taiwan_problem(number: str, _: date) -> str | None:
    if not number.isdigit():
        return "格式错误（应为数字）"
    if len(number) not in (8, 10):
        return f"长度不符（应为8位数字，旧版10位；实为{len(number)}位）"
    return None


def _passport_problem(number: str, _: date) -> str | None:
    if not re.fullmatch(r"[A-Z0-9]+", number):
        return "格式错误（只能包含字母和数字）"
    if not 5 <= len(number) <= 17:
        return f"长度不符（应为5至17位，实为{len(number)}位）"
    if not any(c.isdigit() for c in number):
        return "格式错误（应含有数字）"
    return None


def _credit_code_problem(number: str, _: date | None = None) -> str | None:
    if len(number) != 18:
        return f"长度不符（应为18位，实为{len(number)}位）"
    if any(c not in _CREDIT_CHARS for c in number):
        return "格式错误（含有I、O、S、V、Z或其他不用的字符）"
    if number[0] not in _CREDIT_AUTHORITIES:
        return f"格式错误（第1位登记管理部门代码“{number[0]}”无效）"
    if not number[2:8].isdigit() or (number[2:4] not in PROVINCES and number[2:4] not in ("10", "00")):
        return f"地区码无效（第3至8位“{number[2:8]}”不是行政区划代码）"
    if credit_code_check(number[:17]) != number[17]:
        return "校验位错误（最后一位与前17位不符，请核对）"
    return None


_PROBLEM = {
    "resident_id": _resident_problem,
    "residence_permit": _permit_problem,
    "foreign_permanent_resident": _foreign_problem,
    "hk_macao_permit": _hk_macao_problem,
    "taiwan_permit": _taiwan_problem,
    "passport": _passport_problem,
    "credit_code": _credit_code_problem,
}
