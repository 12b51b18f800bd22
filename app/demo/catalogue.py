"""The demo district's catalogue: 22 departments and 668 powers in the seed's proportions.

Chong'an District (崇安区), Wuxi, 2013: 81 licensing, 508 penalties, 11 enforcement, 2 levies, 66 other.
Names are generated deterministically from each department's subject areas and the usual wording of
Jiangsu power lists; legal bases name the law each department mostly applies.
"""
from __future__ import annotations

from dataclasses import dataclass

COUNTS = {"licensing": 81, "penalty": 508, "enforcement": 11, "levy": 2, "other": 66}


@dataclass(frozen=True)
class Department:
    code: str
    name: str
    law: str
    areas: tuple[str, ...]  # subject areas the department's powers are about


DEPARTMENTS = (
    Department("CA01", "区市场监督管理局", "《中华人民共和国食品安全法》",
               ("食品经营", "特种设备", "计量器具", "广告发布", "产品质量", "药品零售", "化妆品经营", "价格行为")),
    Department("CA02", "区城市管理局", "《城市市容和环境卫生管理条例》",
               ("户外广告设施", "占道经营", "建筑垃圾运输", "城市绿化", "市政设施", "餐厨废弃物")),
    Department("CA03", "区生态环境局", "《中华人民共和国环境保护法》",
               ("大气污染防治", "水污染防治", "噪声污染", "危险废物", "排污许可", "环境影响评价")),
    Department("CA04", "区住房和城乡建设局", "《建设工程质量管理条例》",
               ("建筑施工", "房地产开发", "物业服务", "建设工程质量", "商品房销售", "燃气经营")),
    Department("CA05", "区交通运输局", "《中华人民共和国道路运输条例》",
               ("道路客运", "道路货运", "出租汽车", "机动车维修", "驾驶员培训", "公路路政")),
    Department("CA06", "区卫生健康委员会", "《中华人民共和国基本医疗卫生与健康促进法》",
               ("医疗机构执业", "公共场所卫生", "生活饮用水卫生", "职业卫生", "母婴保健", "传染病防治")),
    Department("CA07", "区教育局", "《中华人民共和国教育法》",
               ("民办学校", "校外培训机构", "教师资格", "学校安全", "幼儿园办园")),
    Department("CA08", "区民政局", "《社会团体登记管理条例》",
               ("社会团体", "民办非企业单位", "殡葬服务", "养老机构", "婚姻登记")),
    Department("CA09", "区人力资源和社会保障局", "《中华人民共和国劳动合同法》",
               ("劳动合同", "工资支付", "社会保险", "职业介绍", "劳务派遣", "工时制度")),
    Department("CA10", "区文化体育和旅游局", "《营业性演出管理条例》",
               ("营业性演出", "娱乐场所", "互联网上网服务", "旅行社经营", "出版物经营", "体育经营")),
    Department("CA11", "区应急管理局", "《中华人民共和国安全生产法》",
               ("安全生产", "危险化学品经营", "烟花爆竹经营", "生产安全事故", "应急预案")),
    Department("CA12", "区商务局", "《单用途商业预付卡管理办法》",
               ("单用途预付卡", "再生资源回收", "成品油零售", "拍卖经营", "报废汽车回收")),
    Department("CA13", "区司法局", "《中华人民共和国律师法》",
               ("律师执业", "法律援助", "基层法律服务", "人民调解", "公证服务")),
    Department("CA14", "区财政局", "《中华人民共和国会计法》",
               ("会计核算", "政府采购", "财政票据", "代理记账", "国有资产")),
    Department("CA15", "区发展和改革局", "《中华人民共和国价格法》",
               ("固定资产投资", "节约能源", "招标投标", "粮食流通", "电力设施")),
    Department("CA16", "区科学技术局", "《中华人民共和国科学技术进步法》",
               ("科技计划项目", "技术合同", "科技中介", "实验动物")),
    Department("CA17", "区农业农村局", "《中华人民共和国农产品质量安全法》",
               ("农药经营", "兽药经营", "种子经营", "动物防疫", "农产品质量", "渔业捕捞")),
    Department("CA18", "区水利局", "《中华人民共和国水法》",
               ("取水", "河道管理", "水土保持", "城市排水", "节约用水")),
    Department("CA19", "区自然资源和规划分局", "《中华人民共和国城乡规划法》",
               ("建设工程规划", "土地使用", "测绘活动", "地质灾害防治")),
    Department("CA20", "区统计局", "《中华人民共和国统计法》",
               ("统计调查", "统计数据报送", "统计资料管理")),
    Department("CA21", "区审计局", "《中华人民共和国审计法》",
               ("审计监督", "审计资料报送", "财务收支")),
    Department("CA22", "公安崇安分局", "《中华人民共和国治安管理处罚法》",
               ("旅馆业治安", "公共娱乐场所治安", "印章刻制", "保安服务", "大型群众性活动", "危险物品")),
)

STREETS = (("CA31", "崇安寺街道"), ("CA32", "通江街道"), ("CA33", "广瑞路街道"), ("CA34", "上马墩街道"),
           ("CA35", "江海街道"), ("CA36", "广益街道"))

_PENALTY = ("对未取得许可从事{a}活动的处罚", "对{a}中拒绝、阻碍监督检查的处罚", "对{a}未按规定建立台账的处罚",
            "对{a}违反安全管理规定的处罚", "对{a}中提供虚假材料的处罚", "对{a}超出核准范围的处罚",
            "对{a}未按规定公示信息的处罚", "对{a}中违规收费的处罚", "对{a}逾期未改正的处罚",
            "对{a}未履行报告义务的处罚", "对{a}中使用不合格设施设备的处罚", "对{a}未按规定配备专业人员的处罚",
            "对{a}违反操作规程的处罚", "对{a}中伪造、涂改相关证件的处罚", "对{a}擅自变更登记事项的处罚",
            "对{a}未按规定保存记录的处罚", "对{a}中不正当竞争行为的处罚", "对{a}未落实整改要求的处罚",
            "对{a}转让、出租、出借许可证件的处罚", "对{a}未按规定投保或缴费的处罚", "对{a}造成环境或安全隐患的处罚",
            "对{a}拒不执行责令停止决定的处罚", "对{a}未经年检或验收的处罚")
_LICENSING = ("{a}许可", "{a}许可变更", "{a}许可延续")
_ENFORCEMENT = ("对{a}相关场所、设施、财物的查封", "对{a}相关物品的扣押")
_LEVY = ("{a}相关费用征收",)
_OTHER = ("{a}行政检查", "{a}行政确认", "{a}行政奖励", "{a}备案")

MATERIALS = {
    "licensing": [("申请书", True, 1), ("营业执照或法人登记证书复印件", True, 1), ("法定代表人身份证明", True, 1),
                  ("场所使用证明", True, 1), ("相关制度文件", False, 1)],
    "penalty": [("立案审批表", True, 1), ("现场检查笔录", True, 1), ("证据材料", True, 1)],
    "enforcement": [("强制措施审批表", True, 1), ("现场笔录", True, 1), ("查封扣押清单", True, 2)],
    "levy": [("缴费核定表", True, 1), ("缴费人身份证明", True, 1)],
    "other": [("申请表", True, 1), ("身份证明", True, 1)],
}

# Which drawn flow runs which kind of power (bpmn/), and its limits (promised, statutory). The units follow the
# law by category (app/catalog/limits.py): licensing 10/20 working days (行政许可法 Art. 42, 82); penalties
# 90 calendar days from 立案 (行政处罚法 Art. 60), enforcement 30 calendar days (行政强制法 Art. 25).
FLOWS = {"licensing": ("licensing_full.bpmn", 10, 20), "penalty": ("penalty_general.bpmn", 60, 90),
         "enforcement": ("enforcement_measure.bpmn", 20, 30), "levy": ("levy_collection.bpmn", 5, 10),
         "other": ("immediate_item.bpmn", 0, 1)}
# Where each flow's clocks start (受理, 立案, the seizure itself), its 补正 step, and the steps rule R01 watches
# for implausible speed (never the window's: 收件 and 受理 take seconds at a window).
# The deciding step (决定) of each flow, and for penalties the 重大执法决定 that need 法制审核 first: fines of
# 10,000 yuan or more, or a revoked licence (吊销) or an ordered closure (责令停产停业).
CLOCKS = {
    "licensing": {"clock_start_step": "Task_accept", "supplement_step": "Task_supplement",
                  "min_step_seconds": {"Task_review": 300, "Task_site_check": 600}, "decision_step": "Task_decide"},
    "penalty": {"clock_start_step": "Task_file", "min_step_seconds": {"Task_investigate": 600, "Task_review": 300},
                "decision_step": "Task_decide",
                "major_decision": {"min_amount": 10000, "outcomes": ["penalty"], "keywords": ["吊销", "责令停产停业"]}},
    "enforcement": {"clock_start_step": "Task_seize", "min_step_seconds": {"Task_record": 300},
                    "decision_step": "Task_decide"},
    "levy": {"min_step_seconds": {"Task_recheck": 120}},
    "other": {},
}
TEMPLATES = {"licensing": _LICENSING, "penalty": _PENALTY, "enforcement": _ENFORCEMENT, "levy": _LEVY,
             "other": _OTHER}


@dataclass(frozen=True)
class DemoItem:
    department: Department
    category: str
    name: str
    article: int


def _names(category: str) -> list[tuple[Department, str]]:
    """Round-robin over departments and their areas so every department gets its share, no name twice."""
    pairs = [(d, t.format(a=a)) for t in TEMPLATES[category] for d in DEPARTMENTS for a in d.areas]
    seen, out = set(), []
    for dept, name in pairs:
        if name not in seen:
            seen.add(name)
            out.append((dept, name))
    if len(out) < COUNTS[category]:
        raise ValueError(f"not enough distinct {category} names: {len(out)}")
    # Interleave departments so the first N are spread across the district, not one department's list.
    queues: dict[str, list] = {}
    for dept, name in out:
        queues.setdefault(dept.code, []).append((dept, name))
    spread: list[tuple[Department, str]] = []
    while len(spread) < COUNTS[category]:
        for queue in queues.values():
            if queue and len(spread) < COUNTS[category]:
                spread.append(queue.pop(0))
    return spread


def items() -> list[DemoItem]:
    out = []
    for category in COUNTS:
        for n, (dept, name) in enumerate(_names(category)):
            out.append(DemoItem(dept, category, name, 10 + (n * 7) % 90))
    return out
