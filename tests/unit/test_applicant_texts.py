"""What each kind of message to the applicant says, the gateway's JSON body, and the SMS settings (no database)."""
from __future__ import annotations

import json
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from app.messages import sms, texts
from app.settings import Settings, SmsSettings

TZ = ZoneInfo("Asia/Shanghai")
NO = "20260302-123456"
SAMPLES = {
    "accepted": {"item_name": "食品经营许可", "promised_due": date(2026, 3, 9)},
    "received": {"item_name": "食品经营许可"},
    "supplement": {"missing": ["营业执照复印件"], "expected_days": 5},
    "clock_stopped": {"label": "听证", "reason": "当事人申请听证", "expected_days": 20},
    "clock_restarted": {"promised_due": date(2026, 3, 20)},
    "extended": {"days": 10, "unit": "working", "reason": "情况复杂", "statutory_due": date(2026, 4, 13)},
    "decided": {"outcome": "准予许可", "summary": "许可证可到窗口领取"},
    "refused": {"reason": "不属于本机关职权范围", "legal_basis": "《行政许可法》第三十二条"},
    "withdrawn": {"reason": "申请人申请撤回"},
    "terminated": {"reason": "申请人死亡", "legal_basis": "《行政许可法》第七十条"},
    "completed": {"item_name": "食品经营许可"},
    "step_notice": {"text": "请于5个工作日内缴纳费用"},
}


def _say(kind: str, params: dict | None = None, secret: bool = False) -> tuple[str, str]:
    return texts.compose(kind, NO, SAMPLES[kind] if params is None else params, TZ, secret)


def test_every_kind_has_a_sample_and_names_the_case_in_both_languages():
    assert set(SAMPLES) == set(texts.KINDS)
    for kind in texts.KINDS:
        zh, en = _say(kind)
        assert NO in zh and NO in en, kind
        assert zh.endswith("。") and en.endswith("."), kind
        assert len(zh) < 120, kind  # short like a government SMS


def test_acceptance_masks_the_query_code_and_says_the_promised_day():
    zh, en = _say("accepted", secret=True)
    assert zh == (f"您申请的食品经营许可已受理，办件编号{NO}，查询码********，承诺2026年3月9日前办结，"
                  "可在网上办事大厅查询进度。")
    assert en == (f"Your application for 食品经营许可 has been accepted: case number {NO}, query code ********, "
                  "to be decided by 2026-03-09. Follow its progress in the online hall.")
    zh, _ = _say("accepted", {"item_name": "食品经营许可", "promised_due": None})
    assert "查询码" not in zh and "承诺" not in zh  # no secret given, the clock not started


def test_a_deadline_given_as_a_moment_is_read_as_its_day_in_the_district():
    late_utc = datetime(2026, 3, 9, 16, 30, tzinfo=timezone.utc)  # 00:30 on 10 March in Beijing
    zh, en = _say("clock_restarted", {"promised_due": late_utc})
    assert "2026年3月10日" in zh and "2026-03-10" in en


def test_the_one_time_list_of_missing_materials_and_the_units_of_an_extension():
    zh, en = _say("supplement", {"missing": ["申请书。", " 营业执照复印件 ", ""], "expected_days": None})
    assert "现一次性告知：申请书、营业执照复印件。请尽快补正" in zh and "申请书; 营业执照复印件" in en
    assert "延长办理期限10个工作日" in _say("extended")[0]
    zh, en = _say("extended", {**SAMPLES["extended"], "unit": "natural", "statutory_due": None})
    assert "延长办理期限10日，理由：情况复杂。" in zh and "by 10 days" in en


def test_clock_stop_labels_from_the_suspension_kind_or_in_chinese():
    assert "因专家评审暂停计时" in _say("clock_stopped", {"label": "expert_review", "reason": "x"})[0]
    assert "for a hearing" in _say("clock_stopped")[1]
    assert "因公示暂停计时" in _say("clock_stopped", {"label": "公示", "reason": "x"})[0]  # as typed


def test_decisions_against_the_applicant_tell_the_remedies():
    for kind in ("refused", "terminated"):
        zh, en = _say(kind)
        assert zh.endswith("如不服，可依法申请行政复议或者提起行政诉讼。") and "administrative lawsuit" in en
    assert "依据" not in _say("refused", {"reason": "材料虚假"})[0]


@pytest.mark.parametrize("kind,params,secret", [
    ("approved", {}, False),  # no such kind
    ("completed", {}, False),  # item_name missing
    ("completed", {"item_name": "x", "phone": "138"}, False),  # no such parameter
    ("supplement", {"missing": []}, False),
    ("extended", {"days": "10", "reason": "x"}, False),
    ("extended", {"days": 10, "unit": "weeks", "reason": "x"}, False),
    ("accepted", {"item_name": "x", "promised_due": "2026-03-09"}, False),
    ("completed", {"item_name": "x"}, True),  # only the first message (receipt or acceptance) carries the query code
])
def test_a_misspelt_kind_or_parameter_is_a_programming_error(kind, params, secret):
    with pytest.raises(ValueError):
        texts.compose(kind, NO, params, TZ, secret)


def test_typed_text_is_cleaned_of_controls_and_half_characters():
    assert texts.clean("  第一行\r\n\x00第二行\t\u2028末尾😀。 ") == "第一行 第二行 末尾😀"
    assert texts.clean("a\ud800b") == "ab"


CFG = SmsSettings(url="http://gw.example/send", signature="【阳光运行】")


@pytest.mark.parametrize("text", ['"quoted" \\ back', "line\nbreak\x00nul", "😀" * 10, "x" * 5000, "{phone}{id}"])
def test_the_body_is_valid_json_whatever_the_text(text):
    raw = sms.body(CFG.template, phone="13800000000", text=text, message_id=7)
    assert json.loads(raw.decode("utf-8")) == {"phone": "13800000000", "text": text, "id": "7"}


def test_a_template_of_the_operators_own_shape_is_filled_in_its_strings_only():
    template = '{"to": ["{phone}"], "content": {"sign": "阳光", "msg": "{text}"}, "ref": "id-{id}", "n": 1}'
    body = json.loads(sms.body(template, phone="+86 138", text='say "{id}"', message_id=42))
    assert body == {"to": ["+86 138"], "content": {"sign": "阳光", "msg": 'say "{id}"'}, "ref": "id-42", "n": 1}


def test_the_sms_merges_the_secret_and_the_signature():
    message = sms.Sms(message_id=1, phone="138", text=f"办件编号{NO}，查询码{texts.SECRET_MASK}。", secret="ABCD2345")
    assert sms.sms_text(CFG, message) == f"【阳光运行】办件编号{NO}，查询码ABCD2345。"


def _config(**sms_keys) -> dict:
    return {"TIMEZONE": "Asia/Shanghai", "SECRET_KEY": "k", "MAX_BPMN_BYTES": 1000, "LEADER_POSTS": "负责人",
            "ITEM_CODE_SCHEME": "{dept}-{serial}", **sms_keys}


def test_the_gateway_settings_from_the_environment():
    assert Settings.from_config(_config()).sms is None
    assert Settings.from_config(_config(SMS_GATEWAY_URL=" ")).sms is None
    cfg = Settings.from_config(_config(SMS_GATEWAY_URL="https://sms.example.gov.cn/v1/send",
                                       SMS_GATEWAY_TOKEN="gw-token-1", SMS_SIGNATURE="", SMS_TIMEOUT="2.5")).sms
    assert (cfg.url, cfg.token, cfg.signature, cfg.timeout) == ("https://sms.example.gov.cn/v1/send", "gw-token-1",
                                                                "", 2.5)
    assert cfg.template == '{"phone": "{phone}", "text": "{text}", "id": "{id}"}'
    assert "gw-token-1" not in repr(cfg)  # never in a log line


@pytest.mark.parametrize("keys,problem", [
    ({"SMS_GATEWAY_URL": "file:///etc/passwd"}, "http"),
    ({"SMS_GATEWAY_URL": "gw.example/send"}, "http"),
    ({"SMS_GATEWAY_URL": "http://gw", "SMS_TEMPLATE": '{"phone": "{phone}", "text": {text}}'}, "JSON"),
    ({"SMS_GATEWAY_URL": "http://gw", "SMS_TEMPLATE": '{"phone": "{phone}"}'}, "{text}"),
])
def test_a_gateway_misconfigured_stops_the_app_at_start(keys, problem):
    with pytest.raises(ValueError, match=problem.replace("{", r"\{").replace("}", r"\}")):
        Settings.from_config(_config(**keys))
