"""Identity numbers are checked by their type's standard (issue 10 item 5): GB 11643, GB 32100 and the permits."""

from __future__ import annotations

from datetime import date

import pytest

from domain.errors import InvalidInput
from domain.identity import ID_TYPES, IdType, check_id_number, guess_type

TODAY = date(2026, 11, 30)


def _refusal(number: str, id_type: IdType | None = None) -> str:
    with pytest.raises(InvalidInput) as e:
        check_id_number(number, id_type, today=TODAY)
    assert e.value.kind == "InvalidIdNumber"
    return e.value.detail


@pytest.mark.parametrize(
    ("number", "id_type", "stored"),
    [
        ("11010519491231002X", "resident_id", "11010519491231002X"),  # the example of GB 11643-1999
        ("11010519491231002x", "resident_id", "11010519491231002X"),  # the X typed lower case
        (" 5301 0220 0002 291234 ", "resident_id", "530102200002291234"),  # spaces; 2000-02-29 exists
        ("５３０１０２１９９００１０１１２３１", "resident_id", "530102199001011231"),  # full-width digits
        ("810000199408230021", "residence_permit", "810000199408230021"),  # 香港居民居住证
        ("830000198002151234", "residence_permit", "830000198002151234"),  # 台湾居民居住证
        ("911840198001010013", "foreign_permanent_resident", "911840198001010013"),  # the 2023 card
        ("USA110180010101", "foreign_permanent_resident", "USA110180010101"),  # the 2004 card, by shape
        ("h12345678", "hk_macao_permit", "H12345678"),
        ("M1234567801", "hk_macao_permit", "M1234567801"),  # older card: 10 digits
        ("12345678", "taiwan_permit", "12345678"),
        ("E12345678", "passport", "E12345678"),
        ("ea1234567", "passport", "EA1234567"),
        ("91350100M000100Y43", "credit_code", "91350100M000100Y43"),
        ("91530102MA6N123J5X", "credit_code", "91530102MA6N123J5X"),
        ("12530000431201234P", "credit_code", "12530000431201234P"),  # a public institution (机构编制)
    ],
)
def test_a_valid_number_is_stored_normalised_with_its_type(number: str, id_type: IdType, stored: str) -> None:
    document = check_id_number(number, id_type, today=TODAY)
    assert (document.id_type, document.number) == (id_type, stored)


@pytest.mark.parametrize(
    ("number", "guessed"),
    [
        ("11010519491231002X", "resident_id"),
        ("810000199408230021", "residence_permit"),
        ("91350100M000100Y43", "credit_code"),
        ("911840198001010013", "foreign_permanent_resident"),
        ("91350100M000100Y44", "credit_code"),  # letters: a credit code with a wrong check character
        ("E12345678", "resident_id"),  # refused as a resident ID, with a hint to give the type
    ],
)
def test_a_number_without_a_type_is_checked_as_what_it_looks_like(number: str, guessed: IdType) -> None:
    assert guess_type(number) == guessed


@pytest.mark.parametrize(
    ("number", "id_type", "problem"),
    [
        ("110105194912310021", "resident_id", "校验位错误"),
        ("530102199001011234", "resident_id", "校验位错误"),  # the old test data: check digit should be 1
        ("530102199002291239", "resident_id", "出生日期无效"),  # 1990-02-29 does not exist
        ("530102199013011234", "resident_id", "出生日期无效"),  # month 13
        ("530102202612311238", "resident_id", "出生日期无效"),  # born after today
        ("53010219900101123", "resident_id", "长度不符"),
        ("5301021990010112311", "resident_id", "长度不符"),
        ("530102900101123", "resident_id", "15位第一代身份证"),
        ("53010219900101123Y", "resident_id", "格式错误"),
        ("990102199001011234", "resident_id", "地区码无效"),
        ("810000199408230021", "resident_id", "港澳台居民居住证"),
        ("530102199001011231", "residence_permit", "地区码无效"),
        ("810000199408230022", "residence_permit", "校验位错误"),
        ("911840198001010014", "foreign_permanent_resident", "校验位错误"),
        ("811840198001010013", "foreign_permanent_resident", "格式错误"),
        ("US1110180010101", "foreign_permanent_resident", "格式错误"),
        ("A12345678", "hk_macao_permit", "格式错误"),
        ("H1234567", "hk_macao_permit", "长度不符"),
        ("H1234567A", "hk_macao_permit", "格式错误"),
        ("1234567", "taiwan_permit", "长度不符"),
        ("T1234567", "taiwan_permit", "格式错误"),
        ("E123", "passport", "长度不符"),
        ("E1234567#", "passport", "格式错误"),
        ("ABCDEFGH", "passport", "格式错误"),
        ("91350100M000100Y44", "credit_code", "校验位错误"),
        ("91350100M000100Y4", "credit_code", "长度不符"),
        ("91350100M000100I43", "credit_code", "格式错误"),  # I is not in GB 32100's character set
        ("B1350100M000100Y43", "credit_code", "登记管理部门代码"),
        ("91990100M000100Y43", "credit_code", "地区码无效"),
    ],
)
def test_a_bad_number_is_refused_naming_the_problem(number: str, id_type: IdType, problem: str) -> None:
    detail = _refusal(number, id_type)
    assert problem in detail
    assert number not in detail  # the refusal names the problem, it does not repeat the number


def test_the_refusal_names_the_document_type_and_hints_at_other_types_for_a_shape_problem() -> None:
    assert (
        _refusal("E12345678") == "居民身份证号码长度不符（应为18位，实为9位）；如为其他证件，请注明证件类型（id_type）"
    )
    assert _refusal("110105194912310021") == "居民身份证号码校验位错误（最后一位与前17位不符，请核对）"
    assert _refusal("91350100M000100Y44", "credit_code").startswith("统一社会信用代码校验位错误")


def test_a_birth_date_of_today_is_accepted_and_tomorrow_is_not() -> None:
    assert check_id_number("530102202611301230", today=TODAY).number == "530102202611301230"
    assert "出生日期无效" in _refusal("530102202612011235")


def test_an_empty_number_is_refused() -> None:
    assert _refusal("   ") == "证件号码为空"


def test_every_type_has_a_check() -> None:
    for id_type in ID_TYPES:
        with pytest.raises(InvalidInput):
            check_id_number("?", id_type, today=TODAY)
