"""Masking personal data shown beyond the case's own parties (seed 002 第一条)."""

from __future__ import annotations

import pytest

from domain.masking import mask_address, mask_id_number, mask_name


def test_resident_id_keeps_first_four_and_last_two_characters() -> None:
    assert mask_id_number("530102199001011234") == "5301************34"


def test_resident_id_with_x_check_digit_keeps_it() -> None:
    assert mask_id_number("53010219900101123X") == "5301************3X"


def test_masked_id_keeps_its_length_and_hides_the_birth_date() -> None:
    masked = mask_id_number("530102199001011234")
    assert len(masked) == 18
    assert "19900101" not in masked


def test_surrounding_spaces_are_ignored() -> None:
    assert mask_id_number(" 530102199001011234 ") == "5301************34"


def test_short_identifier_is_masked_entirely() -> None:
    assert mask_id_number("123456") == "******"
    assert mask_id_number("") == ""


def test_name_keeps_only_the_surname() -> None:
    assert mask_name("张三") == "张*"
    assert mask_name("张三丰") == "张**"


def test_single_character_name_is_still_masked() -> None:
    assert mask_name("张") == "张*"


def test_empty_name_stays_empty() -> None:
    assert mask_name("  ") == ""


def test_name_with_spaces_is_trimmed_first() -> None:
    assert mask_name(" 李四 ") == "李*"


# --- addresses: kept down to the district or county (seed 002 第一条: 家庭住址 partly hidden) ---


@pytest.mark.parametrize(
    ("address", "shown"),
    [
        ("云南省昆明市五华区某某路12号3栋", "云南省昆明市五华区"),
        ("昆明市五华区某路1号", "昆明市五华区"),
        ("北京市朝阳区建国路88号", "北京市朝阳区"),
        ("上海市浦东新区世纪大道1号", "上海市浦东新区"),
        ("重庆市城口县葛城街道", "重庆市城口县"),
        ("内蒙古自治区呼和浩特市新城区某路5号", "内蒙古自治区呼和浩特市新城区"),
        ("云南省大理白族自治州大理市下关镇人民路5号", "云南省大理白族自治州大理市"),
        ("云南省昆明市寻甸回族彝族自治县仁德街道", "云南省昆明市寻甸回族彝族自治县"),
        ("云南省临沧市双江拉祜族佤族布朗族傣族自治县勐勐镇", "云南省临沧市双江拉祜族佤族布朗族傣族自治县"),
        ("云南省临沧市镇康县南伞镇", "云南省临沧市镇康县"),
        ("山东省济南市市中区经十路1号", "山东省济南市市中区"),
        ("福建省福州市鼓楼区五四路1号", "福建省福州市鼓楼区"),
        ("河北省唐山市路南区新华道1号", "河北省唐山市路南区"),
        ("浙江省杭州市西湖区文三路1号", "浙江省杭州市西湖区"),
        ("新疆维吾尔自治区阿克苏地区库车市天山路1号", "新疆维吾尔自治区阿克苏地区库车市"),
        ("内蒙古自治区锡林郭勒盟锡林浩特市", "内蒙古自治区锡林郭勒盟锡林浩特市"),
        ("内蒙古自治区通辽市科尔沁左翼中旗保康镇", "内蒙古自治区通辽市科尔沁左翼中旗"),
        ("贵州省六盘水市六枝特区平寨镇", "贵州省六盘水市六枝特区"),
        ("湖北省神农架林区松柏镇", "湖北省神农架林区"),
        ("云南省昆明市五华区 某某路 12号", "云南省昆明市五华区"),
    ],
)
def test_address_keeps_province_city_and_district_only(address: str, shown: str) -> None:
    assert mask_address(address) == shown


def test_city_without_districts_keeps_the_city_only() -> None:
    assert mask_address("广东省东莞市东城街道莞樟路1号") == "广东省东莞市"
    assert mask_address("北京市某某路12号") == "北京市"


def test_compound_or_community_named_like_a_district_is_dropped() -> None:
    assert mask_address("昆明市阳光小区3栋2单元") == "昆明市"
    assert mask_address("云南省昆明市西山区海埂社区") == "云南省昆明市西山区"
    assert mask_address("昆明市东风西路某某花园A区") == "昆明市"


def test_address_without_recognisable_divisions_shows_nothing() -> None:
    assert mask_address("某某小区3栋2单元") == ""
    assert mask_address("某某超市3楼") == ""
    assert mask_address("Room 5, 12 Main Street") == ""
    assert mask_address("") == ""


def test_no_street_or_house_number_survives() -> None:
    for address in ("云南省昆明市五华区某某路12号3栋", "昆明市盘龙区北京路1188号金色大道A座2单元301室"):
        shown = mask_address(address)
        assert not any(ch.isdigit() for ch in shown)
        assert "路" not in shown and "号" not in shown
