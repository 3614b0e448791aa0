"""The campaign templates cityos ships: 疫情筛查, 防汛排查, 高温探访.

A template gives a campaign everything it needs in one step: a title and description, the
default form (JSON Schema with Chinese titles, ``x-enumTitles`` for the choices and ``x-abnormal``
rules saying which answers make a report abnormal), the kind of task generated per building or
unit, the report cadence (reports a day, more for key groups), the tags that put a person in a
key group, the help categories offered (求助 case categories) and the supplies handed out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cityos.core.i18n import N_

# People tags that mark special groups (特殊人群): flagged and listed first everywhere.
SPECIAL_TAGS: tuple[str, ...] = ("pregnant", "serious_illness", "living_alone", "disabled")
SPECIAL_TITLES: dict[str, str] = {
    "pregnant": N_("Pregnant"),
    "serious_illness": N_("Serious illness"),
    "living_alone": N_("Living alone"),
    "disabled": N_("Disabled"),
}
TAG_TITLES: dict[str, str] = {
    **SPECIAL_TITLES,
    "key_group": N_("Key group"),
    "close_contact": N_("Close contact"),
    "secondary_contact": N_("Secondary contact"),
    "quarantined": N_("Home quarantine"),
    "elderly": N_("Elderly"),
}
TASK_TITLES: dict[str, str] = {
    "door_check": N_("Door-to-door check"),
    "flood_check": N_("Household flood check"),
    "elderly_visit": N_("Visit the elderly living alone"),
}
HELP_TITLES: dict[str, str] = {
    "help.01.01": N_("Buy medicine for me"),
    "help.01.02": N_("Take me to a doctor"),
    "help.01.03": N_("Deliver meals"),
    "help.02.01": N_("An elderly person living alone cannot be reached"),
    "help.02.02": N_("Someone is missing"),
}


@dataclass(frozen=True)
class Supply:
    code: str
    name: str
    unit: str


@dataclass(frozen=True)
class Template:
    key: str
    title: str  # msgid, translated where shown
    description: str  # msgid
    form: dict[str, Any]
    task_kind: str
    task_level: str  # building | unit
    cadence: int = 1  # reports a day
    key_group_cadence: int = 1
    key_group_tags: tuple[str, ...] = ()
    help_categories: tuple[str, ...] = ()
    supplies: tuple[Supply, ...] = field(default_factory=tuple)

    def settings(self) -> dict[str, Any]:
        return {
            "cadence": self.cadence,
            "key_group_cadence": self.key_group_cadence,
            "key_group_tags": list(self.key_group_tags),
            "help_categories": list(self.help_categories),
            "task_kind": self.task_kind,
            "task_level": self.task_level,
        }


def _enum(values: list[tuple[str, str]]) -> dict[str, Any]:
    return {"enum": [v for v, _ in values], "x-enumTitles": [t for _, t in values]}


def _form(title: str, props: list[tuple[str, dict[str, Any]]], required: list[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "title": title,
        "properties": dict(props),
        "required": required,
        "additionalProperties": False,
        "x-order": [k for k, _ in props],
    }


EPIDEMIC_FORM = _form(
    "每日健康报告",
    [
        (
            "temperature",
            {"type": "number", "title": "体温(℃)", "minimum": 34, "maximum": 43, "x-abnormal": {"gte": 37.3}},
        ),
        (
            "symptoms",
            {
                "type": "array",
                "title": "今日症状",
                "uniqueItems": True,
                "items": {
                    "type": "string",
                    **_enum(
                        [
                            ("none", "无"),
                            ("fever", "发热"),
                            ("cough", "咳嗽"),
                            ("sore_throat", "咽痛"),
                            ("fatigue", "乏力"),
                            ("loss_smell", "嗅觉味觉减退"),
                        ]
                    ),
                },
                "x-abnormal": {"any": ["fever", "cough", "sore_throat", "fatigue", "loss_smell"]},
            },
        ),
        (
            "test_result",
            {
                "type": "string",
                "title": "最近一次检测结果",
                **_enum(
                    [
                        ("negative", "阴性"),
                        ("positive", "阳性"),
                        ("pending", "待出结果"),
                        ("not_tested", "未检测"),
                    ]
                ),
                "x-abnormal": {"in": ["positive"]},
            },
        ),
        ("close_contact", {"type": "boolean", "title": "是否为密接或次密接", "x-abnormal": {"equals": True}}),
        ("note", {"type": "string", "title": "其他情况", "maxLength": 500}),
    ],
    ["temperature", "test_result"],
)

FLOOD_FORM = _form(
    "防汛排查",
    [
        (
            "household_status",
            {
                "type": "string",
                "title": "住户情况",
                **_enum([("safe", "安全"), ("needs_evacuation", "需转移"), ("evacuated", "已转移")]),
                "x-abnormal": {"in": ["needs_evacuation"]},
            },
        ),
        (
            "vulnerable",
            {
                "type": "number",
                "title": "需协助转移的老弱病残孕人数",
                "minimum": 0,
                "maximum": 50,
                "x-abnormal": {"gte": 1},
            },
        ),
        (
            "damages",
            {
                "type": "array",
                "title": "受损情况",
                "uniqueItems": True,
                "items": {
                    "type": "string",
                    **_enum(
                        [
                            ("none", "无"),
                            ("water_in", "房屋进水"),
                            ("wall_crack", "墙体开裂"),
                            ("power_cut", "断电"),
                            ("water_cut", "断水"),
                        ]
                    ),
                },
                "x-abnormal": {"any": ["water_in", "wall_crack"]},
            },
        ),
        ("note", {"type": "string", "title": "其他情况", "maxLength": 500}),
    ],
    ["household_status"],
)

HEAT_FORM = _form(
    "高温探访",
    [
        (
            "status",
            {
                "type": "string",
                "title": "身体状况",
                **_enum(
                    [
                        ("well", "状况良好"),
                        ("unwell", "身体不适"),
                        ("needs_care", "需要照料"),
                        ("unreachable", "联系不上"),
                    ]
                ),
                "x-abnormal": {"in": ["unwell", "needs_care", "unreachable"]},
            },
        ),
        ("has_cooling", {"type": "boolean", "title": "家中有空调或风扇", "x-abnormal": {"equals": False}}),
        (
            "needs",
            {
                "type": "array",
                "title": "需要什么帮助",
                "uniqueItems": True,
                "items": {
                    "type": "string",
                    **_enum(
                        [
                            ("none", "无"),
                            ("water", "饮用水"),
                            ("medicine", "药品"),
                            ("meals", "送餐"),
                            ("company", "陪伴"),
                        ]
                    ),
                },
            },
        ),
        ("note", {"type": "string", "title": "其他情况", "maxLength": 500}),
    ],
    ["status"],
)

TEMPLATES: dict[str, Template] = {
    t.key: t
    for t in (
        Template(
            key="epidemic_screening",
            title=N_("Epidemic screening"),
            description=N_(
                "Every resident reports their health once a day through the building's QR code; key groups "
                "report twice a day. Grid workers and volunteers check door to door and record test results."
            ),
            form=EPIDEMIC_FORM,
            task_kind="door_check",
            task_level="building",
            cadence=1,
            key_group_cadence=2,
            key_group_tags=("key_group", "close_contact", "secondary_contact", "quarantined"),
            help_categories=("help.01.01", "help.01.02", "help.01.03", "help.02.01"),
            supplies=(
                Supply("rice", "大米", "袋"),
                Supply("vegetables", "蔬菜包", "份"),
                Supply("medicine", "药品", "份"),
                Supply("masks", "口罩", "个"),
            ),
        ),
        Template(
            key="flood_check",
            title=N_("Flood check"),
            description=N_(
                "Every household says whether it is safe, needs evacuating or has been evacuated, who needs help "
                "to leave and what was damaged; grid workers check each unit."
            ),
            form=FLOOD_FORM,
            task_kind="flood_check",
            task_level="unit",
            key_group_tags=("disabled", "living_alone", "pregnant"),
            help_categories=("help.02.02", "help.02.01", "help.01.03", "help.01.02"),
            supplies=(
                Supply("water", "饮用水", "箱"),
                Supply("food", "方便食品", "份"),
                Supply("blanket", "棉被", "床"),
            ),
        ),
        Template(
            key="heat_visits",
            title=N_("Heat-wave visits"),
            description=N_(
                "Volunteers visit the elderly living alone during a heat wave, record how they are and what they "
                "need; the elderly or their families can also report through the building's QR code."
            ),
            form=HEAT_FORM,
            task_kind="elderly_visit",
            task_level="building",
            key_group_cadence=2,
            key_group_tags=("living_alone",),
            help_categories=("help.01.01", "help.01.03", "help.02.01"),
            supplies=(Supply("water", "饮用水", "箱"), Supply("cooling", "防暑降温药品", "份")),
        ),
    )
}
