"""The scheme's arithmetic (app/assessment/scheme.py), on figures written out by hand."""
from __future__ import annotations

from app.assessment import figures, scheme


def fig(**kw):
    out = figures.empty()
    out.update(kw)
    return out


def test_a_department_with_everything_is_scored_by_the_default_weights():
    f = fig(cases_accepted=10, cases_completed=8, on_time_rate=0.75, items_active=4, online_run_rate=0.5,
            cards={"warning": 2, "yellow": 1, "red": 1}, orders={"issued": 1, "overdue": 1}, rating_avg=4.0,
            evaluation_avg=90.0)
    # 40×0.75 + 20×0.5 + (15 − 1 − 1 − 2 − 2) + 15×0.75 + 10×0.9 = 30 + 10 + 9 + 11.25 + 9
    assert scheme.score(f, scheme.DEFAULT) == (69.2, "合格")


def test_missing_parts_share_their_weight_and_cards_never_go_below_zero():
    f = fig(cases_accepted=1, cards={"warning": 0, "yellow": 20, "red": 0})
    assert scheme.score(f, scheme.DEFAULT) == (0.0, "不合格")  # only supervision exists, and it is spent
    f = fig(cases_accepted=1, items_active=1, online_run_rate=1.0)
    assert scheme.score(f, scheme.DEFAULT) == (100.0, "优秀")  # online 20/20 + supervision 15/15 of 35


def test_a_department_that_ran_nothing_is_not_scored():
    assert scheme.score(fig(), scheme.DEFAULT) == (None, None)


def test_grades_follow_the_thresholds():
    config = scheme.DEFAULT
    assert [scheme.grade(x, config) for x in (95, 90, 89.9, 80, 60, 59.9)] == ["优秀", "优秀", "良好", "良好", "合格",
                                                                             "不合格"]
