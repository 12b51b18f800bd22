"""The holiday notice as an admin pastes it: the real 2025 and 2026 notices read back exactly the dates the
`chinesecalendar` package holds for those years; odd wordings are read, garbage is reported, nothing raises."""
from __future__ import annotations

import random
from datetime import date

import chinese_calendar
import pytest

from app.calendar.notice_text import changes_against, find_year, parse_notice
from tests.notices import NOTICE_2025, NOTICE_2026, NOTICES



def package_days(year: int) -> tuple[set[str], set[str]]:
    """What chinesecalendar holds for the year: every holiday (spans, weekends included) and every make-up day."""
    off = {d.isoformat() for d in chinese_calendar.holidays if d.year == year}
    on = {d.isoformat() for d in chinese_calendar.workdays if d.year == year and d.weekday() >= 5}
    return off, on


def weekday_only(days) -> set[str]:
    return {d for d in days if date.fromisoformat(d).weekday() < 5}


def codes(parsed) -> list[str]:
    return [p.code for p in parsed.problems]


@pytest.mark.parametrize("year", sorted(NOTICES))
def test_the_real_notice_gives_exactly_the_packages_calendar(year):
    parsed = parse_notice(NOTICES[year], year)
    assert parsed.problems == []
    off, on = package_days(year)
    # As storage keeps it: weekday holidays and weekend working days.
    assert weekday_only(parsed.holidays) == weekday_only(off)
    assert {d for d in parsed.workdays if date.fromisoformat(d).weekday() >= 5} == on
    # And the whole spans, weekends included, with no make-up day on a weekday.
    assert set(parsed.holidays) == off and set(parsed.workdays) == on
    assert parsed.holidays == sorted(parsed.holidays) and parsed.workdays == sorted(parsed.workdays)


def test_the_year_comes_from_the_title_when_not_given():
    parsed = parse_notice(NOTICE_2026)
    assert parsed.year == parsed.text_year == 2026 and parsed.problems == []
    assert find_year("现将2031年元旦、春节……的具体安排通知如下。") == 2031
    assert find_year("一、元旦：1月1日放假") is None


def test_entries_follow_the_festivals_with_their_lines():
    parsed = parse_notice(NOTICE_2025, 2025)
    names = [e.name for e in parsed.entries]
    assert names == ["元旦", "春节", "清明节", "劳动节", "端午节", "国庆节、中秋节"]
    spring = parsed.entries[1]
    assert spring.holidays[0] == "2025-01-28" and spring.holidays[-1] == "2025-02-04" and len(spring.holidays) == 8
    assert spring.workdays == ["2025-01-26", "2025-02-08"]
    assert spring.source.startswith("二、春节:1月28日(农历除夕、周二)至2月4日")
    dragon_boat = parsed.entries[4]
    assert dragon_boat.holidays == ["2025-05-31", "2025-06-01", "2025-06-02"]  # across the month's end


def test_the_notice_pasted_as_one_line_with_half_width_punctuation():
    one_line = "".join(line.strip() for line in NOTICE_2026.splitlines())
    half = one_line.replace("（", "(").replace("）", ")").replace("：", ":").replace("，", ",")
    for text in (one_line, half):
        parsed = parse_notice(text, 2026)
        assert parsed.problems == [] and [e.name for e in parsed.entries][:2] == ["元旦", "春节"]
        assert (set(parsed.holidays), set(parsed.workdays)) == package_days(2026)


def test_single_days_and_odd_wordings():
    text = "\n".join([
        "一、元旦：1月1日（周四）放假1天，不调休。",
        "二、端午节：5月31日（周日）放假，与周末连休。",
        "（三）中秋节：９月２５日（星期五）－２７日（星期日）放假；９月１９日（礼拜六）照常上班",
        "国庆节：10月1日（周四）到7日（周三）放假调休，共七天。",
        "9月20日（周日）和10月10日（周六）上班。",  # its own line: still the National Day's
    ])
    parsed = parse_notice(text, 2026)
    assert parsed.problems == [], parsed.problems
    assert [e.name for e in parsed.entries] == ["元旦", "端午节", "中秋节", "国庆节"]
    assert parsed.entries[0].holidays == ["2026-01-01"] and parsed.entries[1].holidays == ["2026-05-31"]
    assert parsed.entries[2].holidays == ["2026-09-25", "2026-09-26", "2026-09-27"]
    assert parsed.entries[2].workdays == ["2026-09-19"]
    assert len(parsed.entries[3].holidays) == 7 and parsed.entries[3].workdays == ["2026-09-20", "2026-10-10"]


def test_a_day_both_off_and_at_work_is_reported():
    parsed = parse_notice("中秋节：9月25日至27日放假。国庆节：9月26日（周六）上班。", 2026)
    assert codes(parsed) == ["holiday_and_workday"] and parsed.problems[0].params == {"day": "2026-09-26"}


def test_a_span_into_the_year_before_keeps_only_the_notices_year():
    parsed = parse_notice("元旦：2024年12月30日（周一）至2025年1月1日（周三）放假，共3天。", 2025)
    assert parsed.holidays == ["2025-01-01"]
    assert codes(parsed) == ["outside_year"]
    assert parsed.problems[0].params["days"] == "2024-12-30、2024-12-31"
    # Written with its year at the start only: the end is in the next year.
    parsed = parse_notice("元旦：2025年12月31日（周三）至1月1日（周四）放假，共2天。", 2025)
    assert parsed.holidays == ["2025-12-31"] and codes(parsed) == ["outside_year"]
    # Without any year the notice's year is meant, so 12月31日 cannot come before 1月1日: reported, not guessed.
    parsed = parse_notice("元旦：12月31日至1月1日放假，共2天。", 2026)
    assert parsed.holidays == [] and codes(parsed) == ["reversed_span", "no_dates"]


@pytest.mark.parametrize("text, code", [
    ("春节：2月15日至23日放假调休，共8天。", "count_mismatch"),
    ("元旦：1月1日（周四）放假2天。", "count_mismatch"),
    ("春节：2月15日（周一）至23日（周一）放假调休，共9天。", "weekday_mismatch"),
    ("春节：2月30日（周一）放假。", "bad_date"),
    ("春节：15日至23日放假。", "no_month"),
    ("国庆节：10月1日至12月31日放假。", "span_too_long"),
    ("国庆节：10月8日（周四）上班。", "workday_on_weekday"),
    ("其中，1月1日（星期四）为法定节假日。", "not_understood"),
    ("春节放假七天。", "not_understood"),
    ("一、元旦：放假一天。", "no_dates"),
    ("国庆节：10月1日至至7日放假。", "not_understood"),
])
def test_cross_checks_and_what_cannot_be_read_are_problems(text, code):
    parsed = parse_notice(text, 2026)
    assert code in codes(parsed), parsed.problems
    problem = next(p for p in parsed.problems if p.code == code)
    assert problem.message and isinstance(problem.params, dict)


def test_a_count_mismatch_keeps_the_dates_for_review():
    parsed = parse_notice("春节：2月15日至23日放假调休，共8天。", 2026)
    assert len(parsed.holidays) == 9 and parsed.problems[0].params == {"said": 8, "found": 9}


def test_the_year_in_the_text_against_the_year_asked_for():
    parsed = parse_notice(NOTICE_2026, 2027)
    assert parsed.text_year == 2026 and parsed.year == 2027 and codes(parsed)[0] == "year_mismatch"
    assert codes(parse_notice("一、元旦：1月1日放假")) == ["no_year"]


@pytest.mark.parametrize("text", [
    "", "   \n\n", "hello world", "放假 上班 至 、 日 月 年", "123日 99月99日 0月0日放假 上班 1月日",
    "\x00\x01\x02", "(((((((((", "一、元旦：" * 50, "1月1日" * 500 + "放假", "至" * 2000,
    "𝟙月𝟙日放假", "1\u200b月1日放假", "２０２６年１月１日放假", "十二月三十一日放假",
])
def test_garbage_is_reported_never_raised(text):
    parsed = parse_notice(text, 2026)
    assert isinstance(parsed.problems, list)
    assert all(d.startswith("2026-") for d in parsed.holidays + parsed.workdays)
    if not (parsed.holidays or parsed.workdays):
        assert parsed.problems, text
    parsed.to_dict()  # plain data all the way down


def test_random_noise_never_raises():
    rng = random.Random(8)
    alphabet = "0123456789年月日至到、和及放假上班休调共天周星期一二三四五六日()（）:：,，。;；\n 元旦春节国庆-~"
    for _ in range(500):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 120)))
        parsed = parse_notice(text, 2026)
        assert all(d.startswith("2026-") for d in parsed.holidays + parsed.workdays)


def test_changes_compare_as_storage_keeps_the_days():
    parsed = parse_notice(NOTICE_2026, 2026)
    off, on = package_days(2026)
    same = changes_against(parsed, sorted(weekday_only(off)), sorted(on))
    assert same == {"added_holidays": [], "removed_holidays": [], "added_workdays": [], "removed_workdays": []}
    stored_off = sorted(weekday_only(off) - {"2026-10-07"} | {"2026-10-08"})
    diff = changes_against(parsed, stored_off, sorted(on - {"2026-10-10"}))
    assert diff == {"added_holidays": ["2026-10-07"], "removed_holidays": ["2026-10-08"],
                    "added_workdays": ["2026-10-10"], "removed_workdays": []}
    # Weekend holidays of the spans are never "added": storage does not keep them.
    assert "2026-10-03" not in changes_against(parsed, [], [])["added_holidays"]
