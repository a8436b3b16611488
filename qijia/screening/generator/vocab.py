"""Vocabulary for synthetic Dongguan data: person names, company names, streets, programmes.

Names carry their pinyin so that e-mail addresses look like the ones people really register
(``zhangwei1986@163.com``). The towns and industries come from the shared reference files, so
the generated bundle uses the same codes as the platform.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

# (surname, pinyin, weight): the most common surnames, weighted roughly by frequency, so that
# namesakes (张伟, 王芳, ...) appear about as often as in a real city.
SURNAMES: tuple[tuple[str, str, int], ...] = (
    ("王", "wang", 72),
    ("李", "li", 72),
    ("张", "zhang", 68),
    ("刘", "liu", 53),
    ("陈", "chen", 46),
    ("杨", "yang", 32),
    ("黄", "huang", 25),
    ("赵", "zhao", 20),
    ("吴", "wu", 19),
    ("周", "zhou", 19),
    ("徐", "xu", 15),
    ("孙", "sun", 14),
    ("马", "ma", 13),
    ("朱", "zhu", 13),
    ("胡", "hu", 12),
    ("郭", "guo", 11),
    ("何", "he", 10),
    ("林", "lin", 10),
    ("罗", "luo", 10),
    ("高", "gao", 10),
    ("梁", "liang", 9),
    ("郑", "zheng", 9),
    ("谢", "xie", 8),
    ("宋", "song", 7),
    ("唐", "tang", 7),
    ("许", "xu", 7),
    ("邓", "deng", 7),
    ("冯", "feng", 6),
    ("韩", "han", 6),
    ("曹", "cao", 6),
    ("曾", "zeng", 6),
    ("彭", "peng", 5),
    ("萧", "xiao", 5),
    ("蔡", "cai", 5),
    ("潘", "pan", 5),
    ("叶", "ye", 5),
    ("袁", "yuan", 5),
    ("钟", "zhong", 5),
    ("莫", "mo", 4),
    ("卢", "lu", 4),
    ("温", "wen", 4),
    ("邹", "zou", 4),
    ("苏", "su", 4),
    ("麦", "mai", 3),
    ("方", "fang", 3),
    ("黎", "li", 3),
    ("江", "jiang", 3),
    ("严", "yan", 2),
    ("丁", "ding", 2),
    ("尹", "yin", 2),
    ("欧阳", "ouyang", 1),
    ("司徒", "situ", 1),
)

# Given-name characters with pinyin. Two lists, so that common two-character names repeat.
GIVEN_CHARS: tuple[tuple[str, str], ...] = (
    ("伟", "wei"),
    ("芳", "fang"),
    ("娜", "na"),
    ("敏", "min"),
    ("静", "jing"),
    ("丽", "li"),
    ("强", "qiang"),
    ("磊", "lei"),
    ("军", "jun"),
    ("洋", "yang"),
    ("勇", "yong"),
    ("艳", "yan"),
    ("杰", "jie"),
    ("娟", "juan"),
    ("涛", "tao"),
    ("明", "ming"),
    ("超", "chao"),
    ("秀", "xiu"),
    ("霞", "xia"),
    ("平", "ping"),
    ("刚", "gang"),
    ("桂", "gui"),
    ("英", "ying"),
    ("华", "hua"),
    ("玉", "yu"),
    ("建", "jian"),
    ("国", "guo"),
    ("志", "zhi"),
    ("文", "wen"),
    ("辉", "hui"),
    ("海", "hai"),
    ("鹏", "peng"),
    ("斌", "bin"),
    ("宇", "yu"),
    ("浩", "hao"),
    ("凯", "kai"),
    ("健", "jian"),
    ("俊", "jun"),
    ("帆", "fan"),
    ("婷", "ting"),
    ("雪", "xue"),
    ("琳", "lin"),
    ("晨", "chen"),
    ("欣", "xin"),
    ("怡", "yi"),
    ("佳", "jia"),
    ("嘉", "jia"),
    ("子", "zi"),
    ("梓", "zi"),
    ("锦", "jin"),
    ("荣", "rong"),
    ("发", "fa"),
    ("坤", "kun"),
    ("德", "de"),
    ("永", "yong"),
    ("晓", "xiao"),
    ("春", "chun"),
    ("红", "hong"),
    ("金", "jin"),
    ("美", "mei"),
    ("振", "zhen"),
    ("家", "jia"),
    ("达", "da"),
    ("耀", "yao"),
    ("光", "guang"),
    ("泽", "ze"),
    ("伦", "lun"),
    ("彬", "bin"),
    ("焕", "huan"),
    ("嫦", "chang"),
    ("惠", "hui"),
    ("燕", "yan"),
)

# Brand syllables for company names ("东莞市宏达精密五金有限公司").
BRAND_CHARS: tuple[tuple[str, str], ...] = (
    ("宏", "hong"),
    ("达", "da"),
    ("鑫", "xin"),
    ("华", "hua"),
    ("盛", "sheng"),
    ("泰", "tai"),
    ("丰", "feng"),
    ("源", "yuan"),
    ("恒", "heng"),
    ("裕", "yu"),
    ("联", "lian"),
    ("创", "chuang"),
    ("新", "xin"),
    ("科", "ke"),
    ("顺", "shun"),
    ("利", "li"),
    ("嘉", "jia"),
    ("信", "xin"),
    ("通", "tong"),
    ("弘", "hong"),
    ("骏", "jun"),
    ("翔", "xiang"),
    ("欣", "xin"),
    ("祥", "xiang"),
    ("益", "yi"),
    ("富", "fu"),
    ("海", "hai"),
    ("力", "li"),
    ("美", "mei"),
    ("精", "jing"),
    ("诚", "cheng"),
    ("瑞", "rui"),
    ("旺", "wang"),
    ("汇", "hui"),
    ("晟", "sheng"),
    ("昌", "chang"),
    ("荣", "rong"),
    ("凯", "kai"),
    ("锐", "rui"),
    ("铭", "ming"),
    ("峰", "feng"),
    ("润", "run"),
    ("东", "dong"),
    ("南", "nan"),
    ("粤", "yue"),
    ("莞", "guan"),
    ("永", "yong"),
    ("安", "an"),
    ("佳", "jia"),
    ("和", "he"),
    ("德", "de"),
    ("兴", "xing"),
    ("星", "xing"),
    ("宇", "yu"),
    ("晶", "jing"),
)

# Trade words by industry division (GB/T 4754): what a Dongguan factory of that kind calls itself.
TRADES: dict[str, tuple[str, ...]] = {
    "C13": ("饲料", "农产品加工"),
    "C14": ("食品", "烘焙食品"),
    "C15": ("饮料", "茶业"),
    "C16": ("烟草机械配件",),
    "C17": ("纺织", "织造"),
    "C18": ("服装", "制衣", "针织服饰"),
    "C19": ("鞋业", "皮具"),
    "C20": ("木业",),
    "C21": ("家具", "家居"),
    "C22": ("纸业", "包装材料"),
    "C23": ("印刷", "彩印"),
    "C24": ("玩具", "文体用品", "工艺品"),
    "C25": ("燃料",),
    "C26": ("化工", "新材料"),
    "C27": ("医药", "生物科技"),
    "C28": ("化纤",),
    "C29": ("塑胶制品", "橡胶制品", "塑胶模具"),
    "C30": ("陶瓷", "玻璃制品"),
    "C31": ("钢材加工",),
    "C32": ("铝材", "有色金属"),
    "C33": ("五金制品", "精密五金", "金属制品"),
    "C34": ("机械设备", "自动化设备"),
    "C35": ("智能装备", "专用设备"),
    "C36": ("汽车配件",),
    "C37": ("船舶配件",),
    "C38": ("电器", "电源科技", "电线电缆", "照明科技"),
    "C39": ("电子科技", "电子", "通讯科技", "智能科技", "光电科技"),
    "C40": ("仪器仪表", "检测设备"),
    "C41": ("实业",),
    "C42": ("再生资源",),
    "C43": ("设备维修",),
}
COMPANY_SUFFIXES: tuple[tuple[str, int], ...] = (
    ("有限公司", 70),
    ("实业有限公司", 8),
    ("股份有限公司", 5),
    ("科技有限公司", 12),
    ("制品厂", 3),
    ("有限责任公司", 2),
)
# Service providers that applicants pay (consultancies, equipment dealers, software houses).
SERVICE_TRADES: tuple[str, ...] = (
    "信息技术",
    "软件",
    "自动化工程",
    "检测技术",
    "管理咨询",
    "节能技术",
    "环保工程",
    "设备贸易",
    "工业设计",
    "知识产权代理",
    "数据科技",
    "机电设备",
    "智能制造系统",
    "检验认证",
    "财税咨询",
)
OUT_OF_TOWN: tuple[tuple[str, str], ...] = (
    ("440300", "深圳市"),
    ("440100", "广州市"),
    ("440600", "佛山市"),
    ("441300", "惠州市"),
    ("442000", "中山市"),
    ("310000", "上海市"),
    ("330100", "杭州市"),
    ("320500", "苏州市"),
)

ROADS: tuple[str, ...] = (
    "东城大道",
    "莞太路",
    "松山湖大道",
    "环城路",
    "107国道",
    "莞樟路",
    "常黄路",
    "新城路",
    "工业大道",
    "科技路",
    "振兴路",
    "创业路",
    "富民路",
    "长青路",
    "银湖路",
    "沿江路",
    "港口大道",
    "新安路",
    "宏图路",
    "兴业路",
    "民营路",
    "金龙路",
    "东深路",
    "石清路",
    "横沥大道",
    "桥梓路",
)
PARKS: tuple[str, ...] = (
    "智能制造产业园",
    "科技创新园",
    "电子信息产业园",
    "五金模具产业园",
    "众创空间",
    "高新技术产业园",
    "创意产业园",
    "数字经济产业园",
    "新材料产业园",
    "天安数码城",
)

PROGRAMMES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("技术改造专项资金", ("生产线自动化改造项目", "智能化技术改造项目", "设备更新改造项目")),
    ("数字化转型专项资金", ("工业互联网平台应用项目", "MES系统建设项目", "数字化车间建设项目")),
    ("专精特新企业培育资金", ("专精特新能力提升项目", "核心零部件研发项目")),
    ("倍增计划扶持资金", ("倍增企业产能提升项目", "倍增企业技术攻关项目")),
    ("节能降耗专项资金", ("余热回收利用项目", "光伏发电节能改造项目", "空压机节能改造项目")),
    ("工业设计奖励资金", ("工业设计创新项目",)),
    ("机器人及智能装备推广资金", ("工业机器人应用项目", "智能仓储物流项目")),
    ("质量品牌建设资金", ("质量管理体系提升项目", "检验检测能力建设项目")),
)
PHOTO_CAPTIONS: tuple[str, ...] = (
    "生产线全景",
    "设备铭牌",
    "设备安装现场",
    "车间改造后",
    "车间改造前",
    "设备调试",
    "验收现场",
    "厂房外观",
    "仓储区域",
    "控制系统界面",
    "检测设备",
    "光伏组件安装",
    "机器人工作站",
    "项目公示牌",
)

REGISTRY_INELIGIBLE: tuple[tuple[str, str, str], ...] = (
    ("环境违法", "东莞市生态环境局", "超标排放水污染物，受到行政处罚"),
    ("欠缴税款", "国家税务总局东莞市税务局", "欠缴增值税及滞纳金逾期未缴"),
    ("安全生产事故", "东莞市应急管理局", "发生一般生产安全事故，负有责任"),
    ("统计违法", "东莞市统计局", "拒报、迟报统计资料"),
    ("项目验收不合格", "东莞市工业和信息化局", "上年度资助项目验收不合格，未按期整改"),
    ("违规用地", "东莞市自然资源局", "未经批准擅自改变工业用地用途"),
)
REGISTRY_BLACKLIST: tuple[tuple[str, str, str], ...] = (
    ("骗取财政资金", "东莞市财政局", "以虚假材料骗取财政专项资金"),
    ("严重失信主体", "东莞市市场监督管理局", "列入严重违法失信企业名单"),
    ("拖欠农民工工资", "东莞市人力资源和社会保障局", "拖欠农民工工资被列入失信联合惩戒对象名单"),
    ("虚开发票", "国家税务总局东莞市税务局", "虚开增值税专用发票，列为重大税收违法失信主体"),
)

MOBILE_PREFIXES: tuple[str, ...] = (
    "130",
    "131",
    "132",
    "133",
    "134",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "153",
    "155",
    "156",
    "157",
    "158",
    "159",
    "166",
    "177",
    "180",
    "181",
    "182",
    "183",
    "185",
    "186",
    "187",
    "188",
    "189",
    "191",
    "198",
    "199",
)
MAIL_DOMAINS: tuple[tuple[str, int], ...] = (
    ("qq.com", 45),
    ("163.com", 25),
    ("126.com", 10),
    ("139.com", 5),
    ("sina.com", 5),
    ("hotmail.com", 3),
    ("foxmail.com", 5),
    ("gmail.com", 2),
)
# Birthplace codes of a Dongguan workforce: local, elsewhere in Guangdong, and the provinces that
# send the most workers (Hunan, Guangxi, Sichuan, Jiangxi, Henan, Hubei).
ID_AREAS: tuple[str, ...] = (
    "441900",
    "441900",
    "441900",
    "440524",
    "440582",
    "441302",
    "445102",
    "440923",
    "441481",
    "430524",
    "431021",
    "430421",
    "450881",
    "452501",
    "511321",
    "510722",
    "362427",
    "360731",
    "411324",
    "412727",
    "420683",
    "421127",
    "440106",
    "440305",
)


@dataclass(frozen=True)
class Reference:
    towns: tuple[str, ...]
    industries: tuple[tuple[str, str], ...]  # (code, name)


def reference_dir() -> Path:
    """QIJIA_REFERENCE_DIR, else ../shared/reference next to the repository root."""
    env = os.environ.get("QIJIA_REFERENCE_DIR")
    if env:
        return Path(env)
    repo = Path(__file__).resolve().parents[3]
    return repo.parent / "shared" / "reference"


@lru_cache(maxsize=4)
def load_reference(folder: str | None = None) -> Reference:
    """Towns and industry divisions from the shared reference CSV files."""
    root = Path(folder) if folder else reference_dir()
    towns_file, industries_file = root / "dongguan-towns.csv", root / "industries.csv"
    for path in (towns_file, industries_file):
        if not path.is_file():
            raise FileNotFoundError(
                f"找不到参考数据文件 {path}（可用环境变量 QIJIA_REFERENCE_DIR 指定目录）"
            )
    with towns_file.open(encoding="utf-8-sig", newline="") as fh:
        towns = tuple(row["name"].strip() for row in csv.DictReader(fh) if row["name"].strip())
    with industries_file.open(encoding="utf-8-sig", newline="") as fh:
        industries = tuple(
            (row["code"].strip(), row["name"].strip())
            for row in csv.DictReader(fh)
            if row["code"].strip()
        )
    if not towns or not industries:
        raise ValueError(f"参考数据为空：{root}")
    return Reference(towns=towns, industries=industries)
