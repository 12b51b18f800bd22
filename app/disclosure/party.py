"""Who the party of a decision is, as the public may see it (双公示): a legal person or other organisation is
named; a natural person's name is masked to its first character (张*); ID numbers and phones never appear.

A party is an organisation when the applicant says so (`applicant.kind: organisation`), when the number given
is an 18-character unified social credit code (统一社会信用代码, GB 32100-2015) rather than a resident ID number,
or — with neither — when the name is an organisation's (…公司, …店, …合作社). Anything else is a person:
masking is the safe default.
"""
from __future__ import annotations

import re
from datetime import date

_USCC = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")
_RESIDENT_ID = re.compile(r"^\d{6}(\d{4})(\d{2})(\d{2})\d{3}[\dX]$")
# Only endings no Chinese given name plausibly has: a person misread as an organisation would be named in public.
ORG_SUFFIXES = ("公司", "企业", "商店", "小吃店", "饭店", "酒店", "药店", "便利店", "门店", "工厂", "经营部", "合作社",
                "旅行社", "中心", "协会", "学会", "商会", "事务所", "医院", "诊所", "学校", "幼儿园", "超市", "商行",
                "工作室", "烘焙坊", "集团", "银行", "基金会", "委员会", "有限合伙")


def _is_resident_id(number: str) -> bool:
    m = _RESIDENT_ID.match(number)
    if not m:
        return False
    try:
        date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return False
    return True


def is_organisation(applicant: dict) -> bool:
    kind = applicant.get("kind")
    if kind in ("person", "organisation"):
        return kind == "organisation"
    number = (applicant.get("id_number") or "").strip().upper()
    if _is_resident_id(number):
        return False
    if _USCC.match(number):
        return True
    return (applicant.get("name") or "").strip().endswith(ORG_SUFFIXES)


def public_name(applicant: dict) -> str:
    name = (applicant.get("name") or "").strip()
    if is_organisation(applicant) or not name:
        return name
    return name[0] + "*" * max(len(name) - 1, 1)
