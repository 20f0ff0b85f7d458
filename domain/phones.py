"""Applicant SMS numbers: a valid mainland mobile, never a placeholder or a landline (seed 000; rule ``phone``)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberType

from domain.errors import InvalidInput

# Placeholders seen in seed 000: 11×'*', 11×'1', 11×'0', 12345678901.
_SEQUENTIAL = ("12345678901", "01234567890", "10987654321")
_SEPARATORS = re.compile(r"[\s\-()（）]")


@dataclass(frozen=True)
class PhoneProblem:
    kind: str
    detail: str


def normalise(raw: str) -> str:
    """Strip separators and the +86 / 0086 prefix, keeping what the user typed otherwise."""
    text = _SEPARATORS.sub("", raw.strip())
    for prefix in ("+86", "0086"):
        if text.startswith(prefix):
            text = text[len(prefix) :]
    return text


def placeholder_problem(number: str) -> PhoneProblem | None:
    """A placeholder: masked with '*', one digit repeated, or a counting sequence (seed 000)."""
    if "*" in number or "×" in number or "x" in number.lower():
        return PhoneProblem("PlaceholderPhone", f"手机号码“{number}”含有“*”等占位符，不是真实号码")
    digits = re.sub(r"\D", "", number)
    if digits and len(set(digits)) == 1:
        return PhoneProblem("PlaceholderPhone", f"手机号码“{number}”由同一数字重复组成，是占位号码")
    if digits in _SEQUENTIAL:
        return PhoneProblem("PlaceholderPhone", f"手机号码“{number}”是顺序数字占位号码")
    return None


def check_mobile(raw: str) -> str:
    """Return the national 11-digit form of a mainland mobile number, or raise InvalidInput naming the problem."""
    number = normalise(raw)
    problem = placeholder_problem(number)
    if problem:
        raise InvalidInput(problem.detail, kind=problem.kind)
    try:
        parsed = phonenumbers.parse(number, "CN")
    except NumberParseException:
        raise InvalidInput(f"“{raw}”不是有效的电话号码", kind="InvalidPhone") from None
    if parsed.country_code != 86:
        raise InvalidInput(f"“{raw}”不是中国大陆手机号码，短信无法送达", kind="InvalidPhone")
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidInput(f"“{raw}”不是有效的中国大陆手机号码", kind="InvalidPhone")
    kind = phonenumbers.number_type(parsed)
    if kind == PhoneNumberType.FIXED_LINE:
        raise InvalidInput(f"“{raw}”是固定电话号码，无法接收短信，请填写手机号码", kind="LandlinePhone")
    if kind not in (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE):
        raise InvalidInput(f"“{raw}”不是个人手机号码（如400、95开头的服务号码），无法接收短信", kind="NotMobilePhone")
    return str(parsed.national_number)


def mask_phone(number: str) -> str:
    """138****8000: enough to tell numbers apart, not enough to call."""
    digits = normalise(number)
    if len(digits) < 7:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]
