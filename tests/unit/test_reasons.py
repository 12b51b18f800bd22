"""Notice reasons are message keys: each has its English, with the same placeholders, and renders its Chinese."""
from __future__ import annotations

import re

import pytest

from app.supervision import reasons
from app.supervision.reasons import Reason
from app.web.messages_en import EN

PLACEHOLDER = re.compile(r"%\((\w+)\)s")
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")


@pytest.mark.parametrize("key", reasons.KEYS)
def test_every_reason_has_english_with_the_same_placeholders(key):
    assert key in EN, key
    assert sorted(PLACEHOLDER.findall(EN[key])) == sorted(PLACEHOLDER.findall(key))
    assert not CJK.search(EN[key]), EN[key]


def test_a_reason_renders_its_chinese_and_a_stored_one_without_key_is_its_sentence():
    late = Reason(reasons.ORDER_OVERDUE, {"order_no": "DB20261201-00001"})
    assert late.text() == "督办 DB20261201-00001 逾期未办结"
    assert late.message() == {"key": reasons.ORDER_OVERDUE, "params": {"order_no": "DB20261201-00001"}}
    old = Reason.stored("环节“审查”已超过时限（100%）", None, None)  # a notice from before keys: shown as it was
    assert old.text() == "环节“审查”已超过时限（100%）" and old.message()["params"] == {}
