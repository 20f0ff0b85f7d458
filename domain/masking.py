"""Masking personal data for anything shown beyond the case's own parties (seed 002 第一条)."""

from __future__ import annotations

import re


def mask_id_number(id_number: str) -> str:
    """A resident ID keeps its first 4 and last 2 characters: 5301************12."""
    text = id_number.strip()
    if len(text) <= 6:
        return "*" * len(text)
    return text[:4] + "*" * (len(text) - 6) + text[-2:]


def mask_name(name: str) -> str:
    """A person's name keeps its surname: 张**."""
    text = name.strip()
    return text[:1] + "*" * max(len(text) - 1, 1) if text else ""


# Characters no division name has: digits, Latin letters, and the words of streets and buildings.
_NAME = r"[^省市区县旗盟路街巷弄号栋楼室\dA-Za-z]"
# Province level: the four municipalities, a province, an autonomous region, Hong Kong or Macao.
_PROVINCE = rf"(?:北京市|天津市|上海市|重庆市|{_NAME}{{2,3}}省|{_NAME}{{2,6}}自治区|香港特别行政区|澳门特别行政区)"
# Prefecture level: an autonomous prefecture (自治州, long names), a city, a prefecture (地区) or a league (盟).
_PREFECTURE = rf"(?:{_NAME}{{1,10}}?自治州|{_NAME}{{1,4}}?(?:地区|盟|市))"
# County level: an autonomous county or banner (long names), a banner, a district, a county, a county-level city;
# a name may contain 市 (市中区), and a few names contain a street or building word.
_COUNTY_NAME = r"[^省区县旗盟路街巷弄号栋楼室\dA-Za-z]"
_COUNTY = (
    rf"(?:路南区|路北区|路桥区|鼓楼区|钟楼区|{_COUNTY_NAME}{{1,12}}?自治[县旗]"
    rf"|{_COUNTY_NAME}{{1,8}}?旗|{_COUNTY_NAME}{{1,4}}?(?:区|县|市))"
)
_DISTRICT_PART = re.compile(rf"^(?P<province>{_PROVINCE})?(?P<prefecture>{_PREFECTURE})?(?P<county>{_COUNTY})?")
# Places below the county whose names also end in 区 or 市: a compound, a community, a campus, a market.
_NOT_A_DIVISION = re.compile(r"(?:[小社园校厂街景营]区|[超门集菜夜]市)$")


def mask_address(address: str) -> str:
    """An address down to its district or county only: 云南省昆明市五华区 (seed 002 第一条: 家庭住址 partly hidden).

    What cannot be read as province, city and district gives an empty string: nothing is shown rather than a
    street that slipped through.
    """
    m = _DISTRICT_PART.match(re.sub(r"\s+", "", address))
    if m is None:
        return ""
    kept = ""
    for part in (m["province"], m["prefecture"], m["county"]):
        if not part:
            continue
        if _NOT_A_DIVISION.search(part):
            break
        kept += part
    return kept
