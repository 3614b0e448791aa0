"""Search over the knowledge base: jieba words plus character bigrams, ranked by BM25 (bm25s).

Residents type the way they talk (生娃了怎么上户口, 身分证掉了), so before tokenising the text
is normalised (full-width to half-width, common typos) and colloquial phrases add the words the
guides use (生娃 → 出生, 掉了 → 遗失 补领). A small user dictionary keeps service terms whole
(身份证, 营业执照, 公积金 …) and character bigrams catch short forms and the words jieba splits
differently. This module knows nothing about the database: ``service`` builds an ``Index`` from
the active articles and keeps one per process.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

# Terms jieba must keep whole (its default dictionary splits several of them).
DOMAIN_WORDS: tuple[str, ...] = (
    "身份证",
    "临时身份证",
    "户口",
    "户口簿",
    "户口本",
    "户籍",
    "落户",
    "迁户",
    "准迁证",
    "居住证",
    "暂住证",
    "医保",
    "医保卡",
    "参保",
    "社保",
    "社保卡",
    "社会保障卡",
    "电子社保卡",
    "公积金",
    "营业执照",
    "电子营业执照",
    "食品经营许可证",
    "出生医学证明",
    "出生证",
    "出生登记",
    "预防接种证",
    "接种证",
    "生育登记",
    "结婚证",
    "结婚登记",
    "婚姻登记",
    "优待证",
    "老年人优待证",
    "高龄津贴",
    "低保",
    "最低生活保障",
    "养老服务补贴",
    "公交卡",
    "失业登记",
    "失业保险金",
    "失业金",
    "退休",
    "养老金",
    "入学报名",
    "公租房",
    "公共租赁住房",
    "不动产",
    "不动产权证书",
    "房产证",
    "税务登记",
    "零申报",
    "公章",
    "刻章",
    "户外广告",
    "建筑垃圾",
    "环评",
    "环境影响评价",
    "排水许可",
    "危险化学品",
    "危化品",
    "无犯罪记录证明",
    "异地就医",
    "备案",
    "一件事",
    "电子证照",
    "自助终端",
    "好差评",
    "代办",
    "进度",
)

# Colloquial phrase (or typo) → the words the guides use. Applied as additions, so the resident's
# own words still count too.
SYNONYMS: tuple[tuple[str, str], ...] = (
    ("身分证", "身份证"),
    ("二代证", "身份证"),
    ("掉了", "遗失 补领 补办"),
    ("丢了", "遗失 补领 补办"),
    ("弄丢", "遗失 补领 补办"),
    ("坏了", "损坏 换领"),
    ("过期", "有效期满 换领"),
    ("到期", "有效期满 换领"),
    ("生娃", "出生 新生儿"),
    ("生孩子", "出生 新生儿"),
    ("生小孩", "出生 新生儿"),
    ("刚生", "出生 新生儿"),
    ("宝宝", "新生儿 婴儿"),
    ("娃", "孩子 儿童"),
    ("小孩", "孩子 儿童"),
    ("上户口", "出生登记 申报 户口"),
    ("报户口", "出生登记 申报 户口"),
    ("落户口", "户口 迁入 落户"),
    ("迁户口", "户口 迁入"),
    ("户口本", "户口簿"),
    ("暂住证", "居住证"),
    ("良民证", "无犯罪记录证明"),
    ("无犯罪证明", "无犯罪记录证明"),
    ("开公司", "企业设立 公司"),
    ("注册公司", "企业设立 公司"),
    ("注册一个公司", "企业设立 公司"),
    ("开店", "经营 营业执照"),
    ("办执照", "营业执照"),
    ("个体户", "个体工商户 营业执照"),
    ("开餐馆", "餐饮 食品经营"),
    ("饭店", "餐饮 食品经营"),
    ("餐馆", "餐饮"),
    ("奶茶店", "餐饮 食品经营"),
    ("零食", "食品 预包装食品"),
    ("报税", "纳税 申报 税务"),
    ("发票", "税务 发票领用"),
    ("社保开户", "单位社会保险登记"),
    ("员工", "职工 用人单位"),
    ("招人", "用工 职工"),
    ("印章", "公章 刻章"),
    ("扯证", "结婚登记"),
    ("领证结婚", "结婚登记"),
    ("领证", "结婚登记"),
    ("准生证", "生育登记"),
    ("怀孕", "生育登记"),
    ("二胎", "生育登记 二孩"),
    ("三孩", "生育登记"),
    ("疫苗本", "预防接种证"),
    ("接种本", "预防接种证"),
    ("打疫苗", "预防接种"),
    ("出生证", "出生医学证明"),
    ("老年证", "老年人优待证"),
    ("敬老证", "老年人优待证"),
    ("老人优待证", "老年人优待证"),
    ("老年卡", "老年人优待证"),
    ("老人", "老年人"),
    ("60岁", "年满60周岁 老年人"),
    ("六十", "年满60周岁 老年人"),
    ("七十岁", "70周岁 老年人"),
    ("80岁", "80周岁 高龄"),
    ("九十岁", "90周岁 高龄"),
    ("长寿金", "高龄津贴"),
    ("高龄补贴", "高龄津贴"),
    ("坐公交", "乘坐公交 公交卡"),
    ("坐车", "乘车 公交"),
    ("乘车卡", "公交卡"),
    ("失能", "养老服务补贴"),
    ("助餐", "养老服务"),
    ("吃低保", "低保 最低生活保障"),
    ("低保金", "低保 发放"),
    ("困难", "低保 最低生活保障"),
    ("辞退", "失业 解除劳动合同"),
    ("下岗", "失业登记"),
    ("没工作", "失业 就业"),
    ("失业金", "失业保险金"),
    ("退休金", "养老金"),
    ("上小学", "入学 小学"),
    ("小升初", "入学 初中"),
    ("一年级", "入学 小学"),
    ("读书", "入学 就读"),
    ("学区", "划片 入学"),
    ("廉租房", "公租房"),
    ("保障房", "公租房 轮候"),
    ("房本", "不动产权证书 不动产登记"),
    ("房产证", "不动产权证书 不动产登记"),
    ("过户", "不动产登记 交易"),
    ("抵押", "抵押登记 不动产"),
    ("招牌", "户外广告 招牌"),
    ("广告牌", "户外广告"),
    ("渣土", "建筑垃圾"),
    ("装修垃圾", "建筑垃圾 装修"),
    ("建厂", "建设项目 环评"),
    ("排污", "污水 排水"),
    ("汽油", "危险化学品 成品油"),
    ("柴油", "危险化学品 成品油"),
    ("化工", "危险化学品"),
    ("外地看病", "异地就医"),
    ("外省", "异地"),
    ("医保卡", "社会保障卡 医保"),
    ("买医保", "参保 医保"),
    ("交医保", "参保 缴费 医保"),
    ("农村医保", "城乡居民医保"),
    ("到哪一步", "进度"),
    ("状态", "进度"),
    ("帮办", "代办"),
    ("代别人", "代办"),
    ("不会用手机", "代办"),
    ("自助机", "自助终端"),
    ("打分", "评价 好差评"),
    ("投诉", "差评 评价"),
    ("不满意", "差评 评价"),
    ("不用交材料", "零材料"),
    ("复印件", "零材料 上传"),
    ("电子证", "电子证照"),
    ("没带齐", "材料不全 补正"),
    ("补材料", "补正 一次性告知"),
    ("上班时间", "办公 工作日"),
    ("周末", "办公 预约"),
    ("约", "预约"),
    ("多少钱", "收费 费用"),
    ("要钱", "收费"),
    ("免费", "收费 不收费"),
    ("带啥", "材料"),
    ("带什么", "材料"),
    ("要啥", "材料"),
    ("多久", "工作日 办结"),
    ("几天", "工作日 办结"),
    ("去哪", "办理地点 窗口"),
    ("在哪", "办理地点"),
    ("网上", "在线 网办"),
)

# Words that say what the resident wants to know (the fee, the time, the place …) rather than
# which service: they rank the articles of an item but do not make a question answerable.
INTENT_WORDS = frozenset(
    "材料 收费 费用 不收费 工作日 办结 办理地点 窗口 在线 网办 遗失 补领 补办 损坏 换领 有效期满 预约 办公".split()
)

# Function words and question particles: in nearly every question, they say nothing about the topic.
STOPWORDS = frozenset(
    "的 了 吗 呢 啊 吧 呀 么 嘛 是 我 你 他 她 们 我们 要 想 能 会 可以 怎么 怎样 怎么样 如何 什么 啥 咋 "
    "哪 哪里 哪儿 去 在 和 与 及 或 还 也 都 就 又 不 没 有 一个 一下 这 那 这边 那边 办 办理 弄 请问 "
    "哪个 哪些 谁 部门 需要 应该 得 给 让 把 被 对 从 到 个 之 "
    "? ？ , ， 。 ! ！ 、 : ： ; ； ( ) （ ） “ ” \" '".split()
)

_CJK = re.compile(r"[\u4e00-\u9fff]+")
_lock = threading.Lock()
_tokenizer: Any = None


def _jieba() -> Any:
    """A private jieba tokenizer with the service terms (the global one stays as other modules use it)."""
    global _tokenizer
    with _lock:
        if _tokenizer is None:
            import logging

            import jieba

            jieba.setLogLevel(logging.WARNING)
            tok = jieba.Tokenizer()
            tok.initialize()
            for word in DOMAIN_WORDS:
                tok.add_word(word, freq=200_000)
            _tokenizer = tok
        return _tokenizer


def normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").lower().strip()


def expand(text: str, *, intent: bool = True) -> str:
    """The text with the guide words of any colloquial phrase it contains appended (without the
    intent-only ones when ``intent`` is false)."""
    extra = [
        canonical
        for phrase, canonical in SYNONYMS
        if phrase in text and (intent or not set(canonical.split()) <= INTENT_WORDS)
    ]
    return text if not extra else f"{text} {' '.join(extra)}"


def tokens(text: str, *, colloquial: bool = True, intent: bool = True) -> list[str]:
    """jieba words (no stop words) and the character bigrams of each run of Chinese characters.

    ``colloquial`` adds the guide words of colloquial phrases; ``intent=False`` leaves out the
    words that only say what is asked about a service (fee, time, place)."""
    clean = normalise(text)
    if colloquial:
        clean = expand(clean, intent=intent)
    words = [w for w in _jieba().lcut(clean) if w.strip() and w not in STOPWORDS and (intent or w not in INTENT_WORDS)]
    grams = [run[i : i + 2] for run in _CJK.findall(clean) for i in range(len(run) - 1)]
    return words + [f"#{g}" for g in grams]


@dataclass(frozen=True)
class Document:
    article_id: int
    key: str
    item_code: str | None
    question: str
    text: str  # what is indexed besides the question: the answer and the item's name


@dataclass(frozen=True)
class Scored:
    document: Document
    score: float


@dataclass(frozen=True)
class Result:
    """The ranked articles, and how sure the index is that the question is about a service it
    knows: the best score from the topic words alone (see ``INTENT_WORDS``)."""

    hits: list[Scored]
    confidence: float


class Index:
    """BM25 over question (counted twice), answer and item name, one document per article."""

    def __init__(self, documents: Sequence[Document]) -> None:
        import bm25s

        self.documents = list(documents)
        self._bm25: Any = None
        if self.documents:
            corpus = [tokens(f"{d.question} {d.question} {d.text}", colloquial=False) for d in self.documents]
            self._bm25 = bm25s.BM25(k1=1.2, b=0.75)
            self._bm25.index(corpus, show_progress=False)

    def __len__(self) -> int:
        return len(self.documents)

    def query(self, text: str, k: int = 3) -> Result:
        """The best ``k`` articles, at most one per item (or per general article), best first."""
        query = tokens(text)
        if self._bm25 is None or not query:
            return Result([], 0.0)
        topic = tokens(text, intent=False)
        confidence = float(self._bm25.get_scores(topic).max()) if topic else 0.0
        scores = self._bm25.get_scores(query)
        order = sorted(range(len(self.documents)), key=lambda i: -float(scores[i]))
        out: list[Scored] = []
        seen: set[str] = set()
        for i in order:
            score = float(scores[i])
            if score <= 0 or len(out) >= k:
                break
            doc = self.documents[i]
            group = doc.item_code or doc.key
            if group in seen:
                continue
            seen.add(group)
            out.append(Scored(doc, round(score, 4)))
        return Result(out, round(confidence, 4))
