"""The category tree shipped with cityos: the 数字城管 event and component classes (GB/T 30428
splits city-management problems into 事件 and 部件), the subject areas of the 12345 hotline,
property repairs and help requests. Three levels; codes ``event.01.03``. Importable and editable.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Node:
    code: str
    name: str
    children: tuple[Node, ...] = ()
    process_key: str | None = None
    keywords: str = ""


def _leaves(prefix: str, names: tuple[str, ...]) -> tuple[Node, ...]:
    return tuple(Node(f"{prefix}.{i:02d}", name) for i, name in enumerate(names, start=1))


TREE: tuple[Node, ...] = (
    Node(
        "event",
        "事件",
        process_key="city_event",
        children=(
            Node(
                "event.01",
                "市容环境",
                _leaves("event.01", ("暴露垃圾", "积存垃圾渣土", "道路不洁", "水域不洁", "绿地脏乱", "违规焚烧")),
            ),
            Node(
                "event.02",
                "宣传广告",
                _leaves("event.02", ("非法小广告", "违规张贴悬挂", "户外广告破损", "占道广告牌")),
            ),
            Node("event.03", "施工管理", _leaves("event.03", ("施工扰民", "工地扬尘", "道路遗撒", "违规占道施工"))),
            Node(
                "event.04",
                "突发事件",
                _leaves("event.04", ("路面塌陷", "自来水管破裂", "燃气泄漏", "道路积水", "火灾")),
            ),
            Node(
                "event.05",
                "街面秩序",
                _leaves("event.05", ("无照经营游商", "占道经营", "店外经营", "乱停放非机动车", "露天烧烤")),
            ),
            Node("event.06", "市场监管", _leaves("event.06", ("无证照经营", "食品安全", "价格欺诈"))),
            Node("event.07", "生态环境", _leaves("event.07", ("噪声污染", "油烟污染", "污水直排", "异味扰民"))),
            Node("event.08", "治安隐患", _leaves("event.08", ("群租房隐患", "消防通道堵塞", "高空抛物"))),
            # 交通拥堵 is opened by the traffic monitor's alerts; 交通事故 feeds the safety index.
            Node(
                "event.09",
                "道路交通运行",
                _leaves("event.09", ("交通拥堵", "交通事故", "道路障碍物")),
                process_key="traffic_event",
            ),
        ),
    ),
    Node(
        "component",
        "部件",
        process_key="city_event",
        children=(
            Node(
                "component.01",
                "公用设施",
                _leaves("component.01", ("路灯", "上水井盖", "污水井盖", "雨水箅子", "消防栓", "电力设施")),
            ),
            Node(
                "component.02",
                "道路交通",
                _leaves("component.02", ("交通信号灯", "交通标志牌", "护栏", "路名牌", "公交站亭", "道路破损")),
            ),
            Node("component.03", "市容环境设施", _leaves("component.03", ("垃圾桶", "公共厕所", "果皮箱", "垃圾间"))),
            Node("component.04", "园林绿化", _leaves("component.04", ("行道树", "绿地", "花坛", "古树名木"))),
            Node("component.05", "房屋土地", _leaves("component.05", ("危房", "违章建筑", "空置场地"))),
            Node("component.06", "其他设施", _leaves("component.06", ("健身设施", "监控电子眼", "公共座椅"))),
        ),
    ),
    Node(
        "hotline",
        "12345 热线",
        process_key="hotline_12345",
        children=(
            Node("hotline.01", "城乡建设", _leaves("hotline.01", ("物业管理", "房屋质量", "老旧小区改造"))),
            Node("hotline.02", "市场监管与消费维权", _leaves("hotline.02", ("消费纠纷", "预付卡退费", "产品质量"))),
            Node("hotline.03", "交通出行", _leaves("hotline.03", ("公交线路", "出租车服务", "停车收费"))),
            Node("hotline.04", "生态环境", _leaves("hotline.04", ("噪声扰民", "空气污染", "水污染"))),
            Node("hotline.05", "社会治安", _leaves("hotline.05", ("邻里纠纷", "治安隐患"))),
            Node("hotline.06", "劳动就业与社会保障", _leaves("hotline.06", ("拖欠工资", "社保缴纳", "就业服务"))),
            Node("hotline.07", "教育", _leaves("hotline.07", ("入学咨询", "校外培训", "学校管理"))),
            Node("hotline.08", "医疗卫生", _leaves("hotline.08", ("医疗服务", "医保报销", "疫苗接种"))),
            Node("hotline.09", "民政与社会救助", _leaves("hotline.09", ("低保申请", "养老服务", "残疾人帮扶"))),
            Node("hotline.10", "城市管理", _leaves("hotline.10", ("占道经营", "违章搭建", "环境卫生"))),
            Node("hotline.11", "供水排水", _leaves("hotline.11", ("停水", "水压不足", "下水道堵塞"))),
            Node("hotline.99", "其他诉求", _leaves("hotline.99", ("意见建议", "表扬"))),
        ),
    ),
    Node(
        "repair",
        "物业报修",
        process_key="property_repair",
        children=(
            Node("repair.01", "公共部位", _leaves("repair.01", ("电梯故障", "楼道照明", "门禁故障", "屋面漏水"))),
            Node("repair.02", "设施设备", _leaves("repair.02", ("二次供水", "消防设施", "监控设备"))),
        ),
    ),
    Node(
        "help",
        "求助",
        process_key="help_request",
        children=(
            Node("help.01", "生活求助", _leaves("help.01", ("代买药品", "就医陪护", "送餐"))),
            Node("help.02", "紧急求助", _leaves("help.02", ("独居老人失联", "走失寻人"))),
        ),
    ),
)


def walk(
    nodes: tuple[Node, ...] = TREE, parent: str | None = None, level: int = 1
) -> list[tuple[Node, str | None, int]]:
    """Every node with its parent code and level, parents first."""
    out: list[tuple[Node, str | None, int]] = []
    for node in nodes:
        out.append((node, parent, level))
        out.extend(walk(node.children, node.code, level + 1))
    return out
