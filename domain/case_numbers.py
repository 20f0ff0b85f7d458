"""Enforcement case numbers: （年份）+ court abbreviation + case-type word + number + 号 (案号规定, 法〔2015〕137号)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from domain.errors import InvalidInput

# 案件类型代字 of enforcement cases (法〔2015〕137号 附件).
CASE_TYPE_WORDS = ("执恢", "执保", "执异", "执复", "执监", "执协", "执他", "执配", "执")

_PATTERN = re.compile(
    r"^（(?P<year>\d{4})）(?P<court>[\u4e00-\u9fff](?:\d{2}){0,2})(?P<word>"
    + "|".join(CASE_TYPE_WORDS)
    + r")(?P<number>[1-9]\d{0,5})号$"
)


@dataclass(frozen=True)
class CaseNumber:
    text: str
    year: int
    court_prefix: str
    word: str
    number: int


def parse_case_number(raw: str, *, court_prefix: str | None = None, max_year: int | None = None) -> CaseNumber:
    """Parse and normalise a case number; half-width brackets are accepted and written full-width."""
    text = raw.strip().replace("(", "（").replace(")", "）").replace("〔", "（").replace("〕", "）")
    m = _PATTERN.match(text)
    if not m:
        raise InvalidInput(
            f"案号“{raw}”格式不正确，应为“（年份）法院代字+执/执恢/执异等类型代字+序号+号”，如（2026）云0102执123号",
            kind="InvalidCaseNumber",
        )
    year = int(m["year"])
    if year < 1990 or (max_year is not None and year > max_year):
        raise InvalidInput(f"案号年份 {year} 不合理", kind="InvalidCaseNumber")
    if court_prefix is not None and m["court"] != court_prefix:
        raise InvalidInput(
            f"案号中的法院代字“{m['court']}”与立案法院的代字“{court_prefix}”不一致", kind="InvalidCaseNumber"
        )
    return CaseNumber(text, year, m["court"], m["word"], int(m["number"]))
