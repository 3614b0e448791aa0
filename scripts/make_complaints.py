"""Builds src/cityos/cases/data/complaints.csv: labelled 12345-style complaints for the category
classifier. Synthetic (no real person's words), seeded, varied in phrasing, place and detail.

Usage: .venv/bin/python scripts/make_complaints.py
"""

from __future__ import annotations

import csv
import random
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "src" / "cityos" / "cases" / "data" / "complaints.csv"
PER_CATEGORY = 40

PLACES = [
    "锦江区春熙路",
    "青羊区宽窄巷子附近",
    "武侯区玉林小区",
    "成华区建设路",
    "金牛区一品天下",
    "高新区天府三街",
    "我们小区",
    "幸福里小区3栋",
    "望江路口",
    "红星路二段",
    "府南新区",
    "东郊记忆旁边",
    "双楠小区",
    "桐梓林",
    "光华大道",
    "九眼桥",
    "沙河堡",
    "营门口",
    "新鸿路",
    "永丰立交下面",
]
TIMES = [
    "最近一周",
    "昨天晚上",
    "今天早上",
    "这几天",
    "已经三天了",
    "从上个月开始",
    "每天晚上",
    "周末",
    "刚才",
    "半个月来",
]
ASKS = [
    "请尽快处理。",
    "希望有关部门管一管。",
    "麻烦安排人来看看。",
    "请相关部门核实处理。",
    "盼回复，谢谢！",
    "影响很大，请重视。",
    "",
]

CATEGORIES: dict[str, tuple[list[str], list[str]]] = {
    "hotline.11.01": (
        [
            "{place}{time}停水了",
            "{place}一直没有水，{time}",
            "{time}{place}自来水停了也没通知",
            "{place}水龙头{time}放不出水",
        ],
        ["家里老人做饭都成问题", "没有提前发停水通知", "问了物业也说不清楚什么时候来水", "整栋楼都没水"],
    ),
    "hotline.11.03": (
        [
            "{place}下水道堵了，{time}",
            "{place}污水井往外冒水，{time}",
            "{time}{place}的下水管道堵塞",
            "{place}厨房下水反味还堵",
        ],
        ["污水流到路面上", "臭气熏天", "一下雨就漫出来", "楼下住户家里进了污水"],
    ),
    "hotline.04.01": (
        [
            "{place}{time}噪音太大",
            "{place}有人{time}跳广场舞声音特别大",
            "{time}{place}KTV吵得睡不着",
            "{place}楼上装修噪音，{time}",
        ],
        ["晚上十一点还不停", "孩子没法写作业", "老人心脏不好受不了", "找他们沟通没用"],
    ),
    "hotline.06.01": (
        [
            "我在{place}的工地干活，老板拖欠工资",
            "{place}一家公司{time}不发工资",
            "{time}讨薪无果，{place}的包工头跑了",
            "在{place}打工被欠薪",
        ],
        ["欠了三个月工资", "一共二十多个工友", "说好月底结清一直拖", "家里等着钱用"],
    ),
    "hotline.02.02": (
        [
            "{place}的健身房关门了预付卡没法退",
            "{place}理发店办的卡{time}不能用了",
            "{place}培训机构跑路，充值的钱退不了",
            "{time}{place}美容院拒绝退卡里的余额",
        ],
        ["卡里还有两千多元", "老板电话打不通", "合同写了可以退", "很多会员都遇到这个问题"],
    ),
    "hotline.03.03": (
        [
            "{place}停车场乱收费",
            "{place}路边停车{time}收费太高",
            "{time}在{place}停车被多收钱",
            "{place}停车收费不开发票",
        ],
        ["一小时收二十元", "没有公示收费标准", "收费员态度很差", "扫码付款金额不对"],
    ),
    "hotline.01.01": (
        ["{place}物业不作为，{time}", "{place}的物业{time}不管事", "投诉{place}物业服务差", "{time}{place}物业乱收费"],
        ["电梯坏了没人修", "小区垃圾没人清", "门禁一直坏着", "物业费涨了服务没变好"],
    ),
    "component.01.01": (
        [
            "{place}的路灯{time}不亮",
            "{place}路灯坏了，{time}",
            "{time}{place}晚上一片漆黑路灯都不亮",
            "{place}有一排路灯闪个不停",
        ],
        ["晚上走路很危险", "老人孩子容易摔倒", "已经好几盏了", "附近还有学校"],
    ),
    "event.01.01": (
        [
            "{place}堆了很多垃圾，{time}",
            "{place}垃圾没人清运，{time}",
            "{time}{place}有人乱倒垃圾",
            "{place}路边垃圾成堆发臭",
        ],
        ["苍蝇蚊子很多", "天热味道很大", "还有建筑垃圾", "影响市容"],
    ),
    "event.05.02": (
        [
            "{place}有商贩占道经营，{time}",
            "{place}{time}摆摊把人行道占满了",
            "{time}{place}流动摊贩堵住路口",
            "{place}的水果摊占用盲道",
        ],
        ["行人只能走机动车道", "晚上更严重", "留下很多垃圾", "城管来了就跑"],
    ),
    "event.02.01": (
        [
            "{place}墙上贴满了小广告",
            "{place}电线杆{time}被贴了很多小广告",
            "{time}{place}有人乱发乱贴办证广告",
            "{place}楼道里全是开锁小广告",
        ],
        ["撕了又贴", "有些是办假证的", "很影响美观", "喷涂在墙上洗不掉"],
    ),
    "event.07.02": (
        [
            "{place}的餐馆油烟太大",
            "{place}烧烤店{time}油烟直排",
            "{time}{place}饭店油烟熏到楼上住户",
            "{place}火锅店排烟管对着居民窗户",
        ],
        ["家里窗户不敢开", "衣服都是油烟味", "没有装净化器", "咳嗽好几天了"],
    ),
    "hotline.09.02": (
        [
            "{place}的老人想申请居家养老服务",
            "咨询{place}社区养老助餐怎么办理",
            "{time}想了解{place}附近的养老院",
            "{place}独居老人需要上门照护",
        ],
        ["老人八十多岁了", "子女不在身边", "行动不方便", "想知道有没有补贴"],
    ),
    "hotline.07.02": (
        [
            "{place}有校外培训机构违规开课",
            "举报{place}{time}有学科类培训",
            "{time}{place}的培训班超时上课",
            "{place}培训机构收费不透明",
        ],
        ["周末也在上课", "收费很高", "没有办学许可", "孩子压力很大"],
    ),
    "hotline.08.02": (
        [
            "咨询{place}医保报销比例",
            "{time}在{place}医院看病医保没报销",
            "{place}异地就医医保怎么备案",
            "医保卡在{place}药店刷不了",
        ],
        ["住院花了三万多", "说是系统问题", "不知道需要什么材料", "跑了好几趟"],
    ),
    "component.02.01": (
        [
            "{place}红绿灯坏了，{time}",
            "{place}路口信号灯{time}一直闪黄灯",
            "{time}{place}交通信号灯时间太短",
            "{place}的红绿灯不亮了",
        ],
        ["车辆乱成一团", "行人过马路很危险", "早晚高峰堵得厉害", "差点出事故"],
    ),
    "event.03.01": (
        [
            "{place}工地{time}夜间施工",
            "{place}施工噪音太大，{time}",
            "{time}{place}工地半夜还在打桩",
            "{place}工程车{time}凌晨进出很吵",
        ],
        ["凌晨两点还在施工", "没有夜间施工许可", "粉尘也很大", "整栋楼的人都睡不好"],
    ),
}


def main() -> None:
    rng = random.Random(2026)
    rows: list[tuple[str, str]] = []
    for code, (patterns, details) in CATEGORIES.items():
        seen: set[str] = set()
        while len(seen) < PER_CATEGORY:
            head = rng.choice(patterns).format(place=rng.choice(PLACES), time=rng.choice(TIMES))
            text = f"{head}，{rng.choice(details)}。{rng.choice(ASKS)}".replace("，，", "，")
            seen.add(text)
        rows.extend((text, code) for text in sorted(seen))
    rng.shuffle(rows)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["text", "category_code"])
        writer.writerows(rows)
    sys.stdout.write(f"{len(rows)} complaints over {len(CATEGORIES)} categories -> {OUT}\n")


if __name__ == "__main__":
    main()
