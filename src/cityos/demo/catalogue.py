"""Departments of the demo city and its 权责清单 (case category -> department).

Category codes follow the GB/T 30428 split of city-management cases into events (事件) and
components (部件), plus the subject areas of the 12345 hotline.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DepartmentKind:
    slug: str
    city_name: str  # appended to the city's name
    district_name: str  # appended to the district's name


@dataclass(frozen=True)
class CaseCategory:
    code: str
    name: str
    department: str  # DepartmentKind.slug


DEPARTMENTS: tuple[DepartmentKind, ...] = (
    DepartmentKind("cgj", "城市管理委员会", "城市管理局"),
    DepartmentKind("zjj", "住房和城乡建设局", "住房和城乡建设局"),
    DepartmentKind("jtj", "交通运输局", "交通运输局"),
    DepartmentKind("sthjj", "生态环境局", "生态环境局"),
    DepartmentKind("scjgj", "市场监督管理局", "市场监督管理局"),
    DepartmentKind("swj", "水务局", "水务局"),
    DepartmentKind("gaj", "公安局", "公安分局"),
    DepartmentKind("jj", "公安局交通管理局", "公安分局交通警察大队"),  # 交警: traffic alerts and incidents
    DepartmentKind("gyj", "公园城市建设管理局", "公园城市建设局"),
    DepartmentKind("ghzyj", "规划和自然资源局", "规划和自然资源分局"),
    DepartmentKind("yjj", "应急管理局", "应急管理局"),
    DepartmentKind("rsj", "人力资源和社会保障局", "人力资源和社会保障局"),
    DepartmentKind("jyj", "教育局", "教育局"),
    DepartmentKind("wjw", "卫生健康委员会", "卫生健康局"),
    DepartmentKind("mzj", "民政局", "民政局"),
    DepartmentKind("wlzz", "网络理政办公室", "网络理政中心"),  # runs the 12345 hotline
    DepartmentKind("ybj", "医疗保障局", "医疗保障局"),
    DepartmentKind("sj", "税务局", "税务局"),
    DepartmentKind("zwfw", "政务服务管理局", "政务服务中心"),  # runs the service halls (一网通办)
)

CASE_CATEGORIES: tuple[CaseCategory, ...] = (
    CaseCategory("event.01", "市容环境", "cgj"),
    CaseCategory("event.02", "宣传广告", "cgj"),
    CaseCategory("event.03", "施工管理", "zjj"),
    CaseCategory("event.04", "突发事件", "yjj"),
    CaseCategory("event.05", "街面秩序", "cgj"),
    CaseCategory("event.06", "市场监管", "scjgj"),
    CaseCategory("event.07", "生态环境", "sthjj"),
    CaseCategory("event.08", "治安隐患", "gaj"),
    CaseCategory("event.09", "道路交通运行", "jj"),
    # 公用设施 includes street lights, which city management (路灯管理所) looks after.
    CaseCategory("component.01", "公用设施", "cgj"),
    CaseCategory("component.02", "道路交通", "jtj"),
    CaseCategory("component.03", "市容环境设施", "cgj"),
    CaseCategory("component.04", "园林绿化", "gyj"),
    CaseCategory("component.05", "房屋土地", "ghzyj"),
    CaseCategory("component.06", "其他设施", "cgj"),
    CaseCategory("hotline.01", "城乡建设", "zjj"),
    CaseCategory("hotline.02", "市场监管与消费维权", "scjgj"),
    CaseCategory("hotline.03", "交通出行", "jtj"),
    CaseCategory("hotline.04", "生态环境", "sthjj"),
    CaseCategory("hotline.05", "社会治安", "gaj"),
    CaseCategory("hotline.06", "劳动就业与社会保障", "rsj"),
    CaseCategory("hotline.07", "教育", "jyj"),
    CaseCategory("hotline.08", "医疗卫生", "wjw"),
    CaseCategory("hotline.09", "民政与社会救助", "mzj"),
    CaseCategory("hotline.10", "城市管理", "cgj"),
    CaseCategory("hotline.11", "供水排水", "swj"),
    CaseCategory("hotline.99", "其他诉求", "wlzz"),
)


def department_code(region_code: str, slug: str) -> str:
    return f"{region_code}-{slug}"
