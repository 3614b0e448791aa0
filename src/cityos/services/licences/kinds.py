"""The credential kinds cityos ships (电子证照目录), installed by ``service.install``.

Each field is ``{"key", "title", "type", "required"}``. ``type`` drives checking and masking:
``text`` (default), ``date`` (YYYY-MM-DD), ``gender`` (male|female|unknown, as in the population
registry), ``id_number`` (checked like the registry's, masked in reads), ``phone`` (masked) and
``uscc`` (统一社会信用代码). Keys that the person record or an application form also uses
(``name``, ``id_number``, ``gender``, ``birth_date``, ``address``, ``org_name``, ``uscc``) keep
those names so data can be reused (零材料).
"""

from __future__ import annotations

from typing import Any

YEAR = 365

ANY_DEPARTMENT = "any"  # a generic result any department may issue
ANY_HOLDER = "any"  # a person or an organisation

MASKED_TYPES = frozenset({"id_number", "phone"})
FIELD_TYPES = frozenset({"text", "date", "gender", "id_number", "phone", "uscc"})


def _f(key: str, title: str, type_: str = "text", *, required: bool = True) -> dict[str, Any]:
    return {"key": key, "title": title, "type": type_, "required": required}


_NAME = _f("name", "姓名")
_GENDER = _f("gender", "性别", "gender")
_BIRTH = _f("birth_date", "出生日期", "date")
_ID = _f("id_number", "公民身份号码", "id_number")
_ORG = _f("org_name", "名称")
_USCC = _f("uscc", "统一社会信用代码", "uscc")

KINDS: tuple[dict[str, Any], ...] = (
    {
        "code": "id_card",
        "name": "居民身份证",
        "issuer_department_kind": "gaj",
        "holder": "person",
        "validity_days": 20 * YEAR + 5,  # 26–45 岁: 20 年; the registry sets it by age
        "fields": [
            _NAME,
            _GENDER,
            _f("ethnicity", "民族", required=False),
            _BIRTH,
            _f("address", "住址", required=False),
            _ID,
        ],
    },
    {
        "code": "household_register",
        "name": "居民户口簿",
        "issuer_department_kind": "gaj",
        "holder": "person",
        "validity_days": None,
        "fields": [
            _f("household_no", "户号"),
            _NAME,
            _f("relation", "户主或与户主关系"),
            _GENDER,
            _BIRTH,
            _f("id_number", "公民身份号码", "id_number", required=False),
            _f("address", "住址"),
        ],
    },
    {
        "code": "residence_permit",
        "name": "居住证",
        "issuer_department_kind": "gaj",
        "holder": "person",
        "validity_days": YEAR,
        "fields": [_NAME, _GENDER, _ID, _f("address", "居住地址")],
    },
    {
        "code": "no_criminal_record",
        "name": "无犯罪记录证明",
        "issuer_department_kind": "gaj",
        "holder": "person",
        "validity_days": 90,
        "fields": [_NAME, _ID, _f("result", "核查结果"), _f("purpose", "用途", required=False)],
    },
    {
        "code": "marriage_certificate",
        "name": "结婚证",
        "issuer_department_kind": "mzj",
        "holder": "person",
        "validity_days": None,
        "fields": [
            _f("name", "持证人"),
            _ID,
            _f("spouse_name", "配偶姓名"),
            _f("spouse_id_number", "配偶身份证件号", "id_number"),
            _f("registered_on", "登记日期", "date"),
            _f("certificate_no", "结婚证字号", required=False),
        ],
    },
    {
        "code": "birth_medical_certificate",
        "name": "出生医学证明",
        "issuer_department_kind": "wjw",
        "holder": "person",
        "validity_days": None,
        "fields": [
            _f("name", "新生儿姓名"),
            _GENDER,
            _f("birth_date", "出生日期", "date"),
            _f("birth_place", "出生地点"),
            _f("mother_name", "母亲姓名"),
            _f("mother_id_number", "母亲身份证件号", "id_number"),
            _f("father_name", "父亲姓名", required=False),
            _f("father_id_number", "父亲身份证件号", "id_number", required=False),
            _f("institution", "接生机构"),
        ],
    },
    {
        "code": "vaccination_certificate",
        "name": "预防接种证",
        "issuer_department_kind": "wjw",
        "holder": "person",
        "validity_days": None,
        "fields": [
            _f("name", "儿童姓名"),
            _GENDER,
            _BIRTH,
            _f("guardian_name", "监护人姓名"),
            _f("clinic", "接种单位"),
        ],
    },
    {
        "code": "elderly_card",
        "name": "老年人优待证",
        "issuer_department_kind": "mzj",
        "holder": "person",
        "validity_days": None,
        "fields": [_NAME, _GENDER, _BIRTH, _ID, _f("address", "住址", required=False)],
    },
    {
        "code": "social_security_card",
        "name": "社会保障卡",
        "issuer_department_kind": "rsj",
        "holder": "person",
        "validity_days": 10 * YEAR + 2,
        "fields": [_NAME, _ID, _f("card_no", "社会保障卡卡号"), _f("bank", "合作银行", required=False)],
    },
    {
        "code": "medical_insurance",
        "name": "医保参保凭证",
        "issuer_department_kind": "ybj",
        "holder": "person",
        "validity_days": YEAR,
        "fields": [_NAME, _ID, _f("insurance_type", "参保险种"), _f("insured_on", "参保日期", "date")],
    },
    {
        "code": "property_certificate",
        "name": "不动产权证书",
        "issuer_department_kind": "ghzyj",
        "holder": "person",
        "validity_days": None,
        "fields": [
            _f("certificate_no", "不动产权证号"),
            _f("owner", "权利人"),
            _f("id_number", "权利人证件号", "id_number"),
            _f("location", "坐落"),
            _f("area", "面积(平方米)"),
            _f("usage", "用途"),
        ],
    },
    {
        "code": "degree_certificate",
        "name": "学位证书",
        "issuer_department_kind": "jyj",
        "holder": "person",
        "validity_days": None,
        "fields": [
            _NAME,
            _f("id_number", "公民身份号码", "id_number", required=False),
            _f("degree", "学位"),
            _f("major", "专业"),
            _f("institution", "学位授予单位"),
            _f("awarded_on", "授予日期", "date"),
        ],
    },
    {
        "code": "business_licence",
        "name": "营业执照",
        "issuer_department_kind": "scjgj",
        "holder": "organisation",
        "validity_days": None,
        "fields": [
            _ORG,
            _USCC,
            _f("org_type", "类型"),
            _f("legal_representative", "法定代表人"),
            _f("registered_capital", "注册资本", required=False),
            _f("established_on", "成立日期", "date"),
            _f("address", "住所"),
            _f("business_scope", "经营范围"),
        ],
    },
    {
        "code": "food_licence",
        "name": "食品经营许可证",
        "issuer_department_kind": "scjgj",
        "holder": "organisation",
        "validity_days": 5 * YEAR + 1,
        "fields": [
            _f("org_name", "经营者名称"),
            _USCC,
            _f("licence_no", "许可证编号"),
            _f("address", "经营场所"),
            _f("business_items", "经营项目"),
        ],
    },
    {
        "code": "tax_registration",
        "name": "税务登记信息",
        "issuer_department_kind": "sj",
        "holder": "organisation",
        "validity_days": None,
        "fields": [
            _f("org_name", "纳税人名称"),
            _f("uscc", "纳税人识别号", "uscc"),
            _f("tax_authority", "主管税务机关"),
            _f("taxpayer_type", "纳税人类型"),
        ],
    },
    {
        "code": "approval_notice",
        "name": "准予许可决定书",
        "issuer_department_kind": ANY_DEPARTMENT,
        "holder": ANY_HOLDER,
        "validity_days": None,
        "fields": [
            _f("item_name", "事项名称"),
            _f("applicant", "申请人"),
            _f("decision", "决定内容"),
            _f("application_no", "办件编号", required=False),
        ],
    },
)

BY_CODE: dict[str, dict[str, Any]] = {k["code"]: k for k in KINDS}


def field_type(kind_code: str, key: str) -> str:
    """The type of one field of a shipped kind; for other kinds, guessed from the key's name."""
    for f in BY_CODE.get(kind_code, {}).get("fields", []):
        if f["key"] == key:
            return str(f.get("type", "text"))
    if key.endswith("id_number"):
        return "id_number"
    if key.endswith("phone"):
        return "phone"
    return "text"
