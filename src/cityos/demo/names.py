"""Names for synthetic places, people and organisations (seeded, plausible, invented)."""

from __future__ import annotations

import random
from itertools import accumulate

from faker import Faker
from faker.providers.person.zh_CN import Provider as PersonProvider

_PLACE_FIRST = "锦金玉和新青华翠龙凤桂兴瑞安福康宁丰泰清双石白红东西南北太万永长德光文明春芳莲桃柳梧"
_PLACE_SECOND = "江城林桥湖源坪溪山园街里坝塘湾门亭泉岗港苑坊庄埠河岭井台"
_ESTATE_SUFFIXES = ("小区", "花园", "苑", "家园", "公寓", "雅居", "名城", "华府", "新村", "佳苑", "嘉园", "府")
_SHOPS = ("便利店", "超市", "面馆", "火锅店", "药房", "水果店", "理发店", "茶馆", "五金店", "菜市", "干洗店", "早餐店")
_NGO_KINDS = ("社工服务中心", "志愿者协会", "老年协会", "邻里互助会", "青少年服务中心")
_PROPERTY_SUFFIXES = ("物业服务有限公司", "物业管理有限公司", "物业服务集团有限公司")


class Namer:
    """All the name drawing of one generation run; one seeded ``Random`` and one seeded Faker."""

    def __init__(self, rng: random.Random, seed: int) -> None:
        self._rng = rng
        self.faker = Faker("zh_CN")
        self.faker.seed_instance(seed)
        surnames = PersonProvider.last_names
        self._surnames = list(surnames)
        self._surname_cum = list(accumulate(float(w) for w in surnames.values()))
        self._male = list(PersonProvider.first_names_male)
        self._female = list(PersonProvider.first_names_female)

    # people ---------------------------------------------------------------
    def surname(self) -> str:
        return self._rng.choices(self._surnames, cum_weights=self._surname_cum)[0]

    def given_name(self, *, male: bool) -> str:
        return self._rng.choice(self._male if male else self._female)

    def person(self, *, male: bool, surname: str | None = None) -> str:
        return (surname or self.surname()) + self.given_name(male=male)

    # places ---------------------------------------------------------------
    def _word(self) -> str:
        return self._rng.choice(_PLACE_FIRST) + self._rng.choice(_PLACE_SECOND)

    def unique_words(self, n: int, suffix: str) -> list[str]:
        """``n`` distinct two-character place names with a suffix (社区, 村, 小区 …)."""
        seen: set[str] = set()
        out: list[str] = []
        while len(out) < n:
            name = self._word() + suffix
            if name not in seen:
                seen.add(name)
                out.append(name)
        return out

    def estates(self, n: int) -> list[str]:
        seen: set[str] = set()
        out: list[str] = []
        while len(out) < n:
            name = self._word() + self._rng.choice(_ESTATE_SUFFIXES)
            if name not in seen:
                seen.add(name)
                out.append(name)
        return out

    # organisations ------------------------------------------------------------
    def property_company(self, city_short: str) -> str:
        return city_short + self.faker.company_prefix() + self._rng.choice(_PROPERTY_SUFFIXES)

    def merchant(self) -> str:
        return self.surname() + "记" + self._rng.choice(_SHOPS)

    def enterprise(self, city_short: str) -> str:
        return city_short + self.faker.company_prefix() + self.faker.company_suffix()

    def ngo(self, community: str) -> str:
        return community + self._rng.choice(_NGO_KINDS)


def city_short_name(name: str) -> str:
    """成都市 -> 成都 (organisation names start with the city's short name)."""
    return name[:-1] if name.endswith("市") and len(name) > 2 else name
