"""Write examples/year-2026.jsonl: a year of work errors and information-work events.

Eight township Party-committee offices of 涟源市 through 2026, in date order: incidents
drawn from templates per error type (a recurring cast per township, so repeat offences and
the 诫勉 → 效能告诫 → 不称职 ladders really occur), a few scripted storylines (a duty officer
who keeps leaving his post, a leaked confidential document, concealed errors, a collective
decision with a dissent on record, a few grave errors), and information-work events for the
year-end assessment (articles adopted, leaders' instructions, late or missing submissions).

Deterministic: one ``random.Random(2026)``, no wall clock. Run::

    .venv/bin/python examples/make_year.py            # writes examples/year-2026.jsonl
    .venv/bin/errorrules assess rulesets/party-office examples/year-2026.jsonl --period 2026

Incidents are every line without an ``event`` key; each validates against the bundled
ruleset's incident schema.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
OUT = HERE / "year-2026.jsonl"
TZ = dt.timezone(dt.timedelta(hours=8))
YEAR = 2026

Facts = dict[str, Any]

# One township per line: name, id prefix, randomly drawn incidents (scripted ones come on
# top), care (0..1: how often the office finds its own errors and registers them at once),
# drafters / reviewer / approver / handlers / driver / office head.
# Drafters and handlers are listed busiest first (weights 3, 2, 1).
CAST = """
桥头河镇 QTH 13 0.85 张伟,王丽君,周文斌 李娜 黄志明 孙丽,陈小兰,刘晓峰 廖师傅 彭主任
金石镇 JS 18 0.65 刘洋,王强,贺娟 陈静 周国平 杜红,马晓东,易小平 朱师傅 杨主任
湄江镇 MJ 21 0.55 谢丽,肖文,邹婷 袁芳 邹建华 廖小燕,胡志刚,钟敏 龙师傅 龙主任
龙塘镇 LT 22 0.45 彭涛,周婷,王海燕 罗敏 李建国 龚霞,唐雪,刘建军 刘师傅 何主任
杨家滩镇 YJT 19 0.6 胡晓燕,梁晨,曹丽 邓伟 谢国强 覃芳,贺鹏,李玉兰 彭师傅 黄主任
毛塘镇 MT 22 0.3 蒋丽华,吴倩,邓志勇 唐建军 吴书记 王小兵,李红梅,石小军 李师傅 欧阳主任
石牛镇 SN 20 0.4 罗小红,王建军,李芳 谭志强 谭书记 张敏,罗小红,周志华 谭师傅 谭志强
荷叶镇 HY 14 0.75 贺文,朱丽,曾国梁 刘主任 贺书记 曾晓芬,陈伟,贺小龙 黄师傅 刘主任
"""

VILLAGES = """
桥头河镇 石狮村 茶园村 楼下村 桥头河社区
金石镇 金石村 白马村 大塘村 金石社区
湄江镇 湄江村 塞海村 观音村 湄峰社区
龙塘镇 龙塘村 新桥村 石门村 龙塘社区
杨家滩镇 杨家滩村 三星村 万宝村 杨家滩社区
毛塘镇 毛塘村 石塘村 青山村 毛塘社区
石牛镇 石牛村 冷水村 龙山村 石牛社区
荷叶镇 荷叶村 富厚堂村 天坪村 荷叶社区
"""

# Information work: the expected number of each event in the year (a fraction is a chance).
EVENTS = """
桥头河镇 adopted_district=4 adopted_city=2 adopted_province=0.6 instruction_district=1
桥头河镇 late_submission=0.5
金石镇 adopted_district=3 adopted_city=1.5 instruction_district=1 late_submission=1.5
金石镇 missing_submission=1
湄江镇 adopted_district=2 adopted_city=1 late_submission=2 missing_submission=1
龙塘镇 adopted_district=3 adopted_city=1 late_submission=2 missing_submission=2
杨家滩镇 adopted_district=3 adopted_city=1 instruction_district=1 late_submission=1
杨家滩镇 missing_submission=0.5
毛塘镇 adopted_district=1 late_submission=4 missing_submission=3
石牛镇 adopted_district=1 late_submission=3 missing_submission=4
荷叶镇 adopted_district=3 adopted_city=2 adopted_province=1 instruction_city=1
"""

# Error templates. A header line: error type, duty area, who is named (draft: drafter,
# reviewer, sometimes approver; handle: handler and office head; drive: the driver), weight,
# then facts drawn for it: `name=p` sets a boolean with chance p, `level` draws the event's
# level, `overdue` / `supervision` draw days overdue, `loss=a-b` a loss in yuan,
# `classified` a classification, `secret` the secret level, `hours=a-b` the time of day.
# `d:` lines are descriptions ({doc} {meeting} {metric} {village} {policy} {right} {wrong}),
# `f:` lines corrective measures.
KINDS = """
typo drafting draft 9 issued_externally=0.15
  d: {doc}中将“{right}”误写为“{wrong}”
  d: {doc}出现错字两处、标点符号使用错误
  d: {doc}中{village}名称写错
  f: 起草人逐字校对后再送审
  f: 实行一文三校
  f: 建立常见错字提示清单
data_error drafting draft 6 issued_externally=0.2 leader_criticized=0.12
  d: {doc}中{metric}与统计站数据不符
  d: {doc}中{village}户数前后不一致
  f: 数据一律与统计站核对后使用
  f: 建立数据来源台账
political_wording drafting draft 0.8 issued_externally=0.12
  d: {doc}中全会届次写错
  d: {doc}中领导同志职务排序错误
  f: 重要提法对照权威文本核校
format_error drafting draft 6
  d: 应使用“请示”误用“报告”
  d: 发文字号年份未用六角括号
  d: {doc}主送机关漏列
  d: {doc}标题与正文文种不一致
  f: 对照党政机关公文格式逐项核对
wrong_citation drafting draft 3 issued_externally=0.2
  d: {doc}引用{policy}作为依据
  d: {doc}引用文件文号错误
  f: 引用文件前查询现行有效目录
draft_overdue drafting draft 3 meeting_affected=0.3
  d: {meeting}材料会前未能按时完成
  d: 党委书记在{meeting}上的讲话稿逾期一天完成
  f: 提前三天倒排起草进度
research_data_false research draft 1.5 leader_criticized=0.3
  d: {village}产业发展调研报告中合作社数量与实际不符
  f: 调研数据实地核实
research_overdue research draft 1.5
  d: 县委办布置的基层治理调研逾期未报
  f: 调研任务纳入督办台账
unsigned_issue document_handling draft 1.2 issued_externally=0.1
  d: {doc}未经分管领导签发即印发各村
  f: 严格执行发文签批程序
doc_overdue document_handling handle 6 overdue
  d: 县委来文在办公室滞留未及时呈送领导阅批
  d: {doc}拟办意见延误，未按时分送
  f: 收文当日登记、次日呈批
doc_misdelivered document_handling handle 4 issued_externally=0.15
  d: 应发各村的通知漏发{village}
  d: 将{village}的文件错发其他村
  f: 发文前核对分送清单
doc_register_error document_handling handle 4
  d: 收文登记簿漏登上级来文
  d: 发文登记文号重号
  f: 收发文登记每日复核
seal_error document_handling handle 2 issued_externally=0.2
  d: 介绍信未登记即加盖党委印章
  d: 证明材料印章盖倒
  f: 用印一律先审批登记
meeting_notice_error meetings handle 4 level
  d: {meeting}通知中会议地点写错
  d: {meeting}漏通知分管领导参会
  f: 会议通知双人核对
venue_arrangement meetings handle 3 level
  d: {meeting}主席台席卡姓名写错
  d: {meeting}开始后话筒无声
  f: 会前一小时检查会场设备
meeting_materials meetings handle 3 meeting_affected=0.25
  d: {meeting}材料少印，部分参会人员无材料
  d: {meeting}材料装订顺序错误
  f: 会议材料按清单清点
info_late information handle 4 emergency=0.15
  d: {village}发生交通事故，信息晚报两小时
  d: 周工作动态晚报一天
  f: 紧急信息先电话报告再书面报送
info_omitted information handle 1.2 emergency=0.1
  d: {village}群众聚集反映问题未向县委办报告
  f: 落实信息报送首报责任
info_inaccurate information handle 3 leader_criticized=0.25
  d: 报送的{village}受灾户数与核查数不符
  d: 报送的{metric}与实际不符
  f: 信息报送前实行分管领导审核
info_quota_shortfall information handle 1.5
  d: 本季度未向活动领导小组办公室报送活动信息
  f: 每月至少报送一篇活动信息
classified_doc_mishandled confidentiality handle 2 classified
  d: 涉密文件传阅后未及时收回
  d: 涉密文件未经登记即复印
  f: 涉密文件专柜保管、专人传阅
cipher_telegram confidentiality handle 0.8 secret
  d: 明传电报与密码电报混送领导阅批
  f: 密码电报单独登记传阅
classified_device_misuse confidentiality handle 0.5 secret
  d: 用个人U盘在涉密计算机和互联网计算机间拷贝文件
  f: 涉密计算机张贴禁止外联标识
supervision_overdue supervision handle 4 supervision
  d: {village}人居环境整治督办件逾期未反馈
  d: 领导批示件逾期未办结
  f: 督办事项挂图作战、逐项销号
supervision_false_report supervision handle 0.8
  d: {village}整改未完成即上报“已整改到位”
  f: 整改情况实地复核后再报
reception_attitude reception handle 4 complaint=0.2
  d: 群众来办事，工作人员态度生硬
  d: 接听群众来电语气不耐烦
  f: 开展文明用语培训
reception_shirking reception handle 2 complaint=0.35
  d: {village}群众反映问题被几个站所来回推
  f: 落实首问负责制
hospitality_arrangement reception handle 2 level
  d: 上级检查组到达时无人迎接
  d: 调研组行程安排与会议冲突
  f: 接待方案提前一天报审
phone_record_error duty_notice handle 3 emergency=0.1
  d: 县委办电话通知的开会时间记错
  d: 电话记录未及时转告分管领导
  f: 电话记录当即复述确认
duty_absent duty_notice handle 2 hours=20-24 emergency=0.08
  d: 夜间值班人员离岗，县委值班室查岗无人应答
  f: 严格值班交接和带班制度
notice_not_delivered duty_notice handle 3 meeting_affected=0.25
  d: 防汛紧急通知未传达到{village}
  d: {meeting}通知未传达到两个村
  f: 通知传达实行回执制度
phone_unanswered duty_notice handle 3 hours=12-24 emergency=0.08
  d: 午间上级查岗电话连续三次无人接听
  d: 值班电话夜间无人接听
  f: 值班电话呼叫转移到带班领导
vehicle_failure logistics drive 2 meeting_affected=0.3
  d: 领导赴县开会，派车晚到半小时
  d: 公务用车途中故障
  f: 车辆出车前例行检查
supplies_failure logistics handle 1.5 loss=300-6000
  d: 防汛物资保管不善受潮
  d: 办公用品采购规格错误
  f: 物资出入库台账化管理
asset_loss logistics handle 1 loss=800-14000
  d: 会议室投影仪未锁存放被盗
  d: 办公电脑保管不善损坏
  f: 固定资产责任到人
coordination_failure coordination handle 3 leader_criticized=0.15
  d: 两个站所同日分别通知{village}干部开会，时间冲突
  f: 活动安排统一由党政办汇总
schedule_conflict coordination handle 2 level
  d: 党委书记同一时间被安排参加两项活动
  f: 领导活动周安排表每日核对
error_register_late coordination handle 1.5
  d: 上月差错登记表逾期报送
  f: 差错登记每月5日前报送
other coordination handle 0.5
  d: 会后茶杯未及时收拾
  d: 办公室绿植未及时浇水
  f: 加强日常管理
"""

SLOTS = {
    "doc": "党委会议题请示 工作简报 春耕生产工作通知 乡村振兴工作汇报 党委书记讲话稿 年度工作总结"
    " 防汛工作方案 基层党建工作要点 人居环境整治通报 信访维稳工作报告",
    "meeting": "党委会 全镇村支部书记例会 乡村振兴推进会 防汛工作调度会 人居环境整治现场会"
    " 基层党建述职评议会",
    "metric": "招商引资金额 粮食播种面积 脱贫户人均纯收入 农村改厕户数 高标准农田面积"
    " 新型农业经营主体数量",
    "policy": "已废止的村级财务管理办法 2019年版防汛应急预案 已修订的公文处理实施细则"
    " 已失效的农村建房管理规定",
    "typo": "乡村振兴/乡村振心 高质量发展/高质量法展 人居环境/人居坏境 党风廉政/党风廉正"
    " 产业振兴/产业振新",
}

EVENT_NOTES = {
    "adopted_district": "《{title}》被涟源市委办《涟源信息》采用",
    "adopted_city": "《{title}》被娄底市委办《娄底信息》采用",
    "adopted_province": "《{title}》被省委办公厅《湖南信息》采用",
    "instruction_district": "《{title}》获涟源市委主要领导肯定性批示",
    "instruction_city": "《{title}》获娄底市委领导肯定性批示",
    "instruction_province": "《{title}》获省委领导肯定性批示",
    "late_submission": "{month}月活动信息逾期报送",
    "missing_submission": "{month}月活动信息缺报{count}篇",
    "omitted_urgent_report": "突发事件信息漏报，被县委办通报",
}
TITLES = """
“屋场会”化解矛盾纠纷 党建引领乡村振兴的实践 推行“一文三校”提升办文质量 防汛抢险工作纪实
人居环境整治“五清一改” 党员积分制管理调研 “工作无差错”活动经验做法 发展特色产业带动群众增收
网格化管理提升基层治理效能 “村务夜话”收集群众诉求 秋冬季森林防火工作 农村集体经济发展调研
“一站式”便民服务见成效 高标准农田建设纪实
"""


@dataclass(frozen=True)
class Town:
    name: str
    code: str
    incidents: int
    care: float
    drafters: tuple[str, ...]
    reviewer: str
    approver: str
    handlers: tuple[str, ...]
    driver: str
    office_head: str
    villages: tuple[str, ...]
    events: tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class Kind:
    error_type: str
    area: str
    chain: str
    weight: float
    specs: tuple[str, ...]
    descs: tuple[str, ...]
    fixes: tuple[str, ...]

    @property
    def hours(self) -> tuple[int, int]:
        for spec in self.specs:
            if spec.startswith("hours="):
                lo, hi = spec[6:].split("-")
                return int(lo), int(hi)
        return 8, 18


def _towns() -> tuple[Town, ...]:
    villages = {line.split()[0]: tuple(line.split()[1:]) for line in VILLAGES.strip().splitlines()}
    events: dict[str, list[tuple[str, float]]] = {}
    for line in EVENTS.strip().splitlines():
        name, *pairs = line.split()
        for pair in pairs:
            kind, n = pair.split("=")
            events.setdefault(name, []).append((kind, float(n)))
    towns = []
    for line in CAST.strip().splitlines():
        name, code, n, care, drafters, reviewer, approver, handlers, driver, head = line.split()
        towns.append(
            Town(name, code, int(n), float(care), tuple(drafters.split(",")), reviewer, approver,
                 tuple(handlers.split(",")), driver, head, villages[name],
                 tuple(events[name]))
        )  # fmt: skip
    return tuple(towns)


def _kinds() -> tuple[Kind, ...]:
    kinds: list[Kind] = []
    current: list[str] = []
    blocks: list[list[str]] = []
    for line in KINDS.strip().splitlines():
        if not line.startswith(" "):
            current = [line]
            blocks.append(current)
        else:
            current.append(line.strip())
    for lines in blocks:
        error_type, area, chain, weight, *specs = lines[0].split()
        descs = tuple(x[3:] for x in lines[1:] if x.startswith("d: "))
        fixes = tuple(x[3:] for x in lines[1:] if x.startswith("f: "))
        kinds.append(Kind(error_type, area, chain, float(weight), tuple(specs), descs, fixes))
    return tuple(kinds)


TOWNS = _towns()
KINDS_ = _kinds()


def _p(rng: random.Random, p: float) -> bool:
    return rng.random() < p


def _facts(rng: random.Random, kind: Kind) -> Facts:
    """Draw the facts a template asks for, in the order its specs are written."""
    out: Facts = {}
    for spec in kind.specs:
        name, _, arg = spec.partition("=")
        if name == "hours":
            continue
        if name == "level":
            lv = rng.choices(("township", "county", "city", "province"), (6, 3, 1.2, 0.3))[0]
            out["event_level"] = lv
            if _p(rng, 0.12):
                out["meeting_affected"] = True
        elif name == "overdue":
            out["delay_days"] = rng.choices((1, 2, 3, 4, 6, 11), (4, 4, 2, 1, 0.6, 0.2))[0]
        elif name == "supervision":
            out["delay_days"] = rng.choices((3, 6, 9, 12, 16), (3, 3, 2, 1, 0.5))[0]
            if _p(rng, 0.15):
                out["leader_criticized"] = True
        elif name == "loss":
            lo, hi = (int(x) for x in arg.split("-"))
            out["loss"] = str(rng.randrange(lo, hi, 50))
            if _p(rng, 0.4):
                out["recovered_loss"] = True
        elif name == "classified":
            levels = ("internal", "secret", "confidential")
            out["secret_level"] = rng.choices(levels, (5, 3, 1))[0]
        elif name == "secret":
            out["secret_level"] = "secret"
        elif _p(rng, float(arg)):
            out[name] = True
    return out


def _at(day: dt.date, rng: random.Random, hours: tuple[int, int]) -> dt.datetime:
    h = rng.randint(hours[0], hours[1] - 1)
    minute = rng.choice((0, 10, 20, 30, 40, 50))
    return dt.datetime(day.year, day.month, day.day, h, minute, tzinfo=TZ)


def _slots(rng: random.Random, town: Town) -> dict[str, str]:
    right, wrong = rng.choice(SLOTS["typo"].split()).split("/")
    return {
        "doc": rng.choice(SLOTS["doc"].split()),
        "meeting": rng.choice(SLOTS["meeting"].split()),
        "metric": rng.choice(SLOTS["metric"].split()),
        "village": rng.choice(town.villages),
        "policy": rng.choice(SLOTS["policy"].split()),
        "right": right,
        "wrong": wrong,
    }


def _people(rng: random.Random, town: Town, kind: Kind) -> Facts:
    if kind.chain == "draft":
        drafter = rng.choices(town.drafters, (3, 2, 1))[0]
        out: Facts = {"drafter": drafter, "reviewer": town.reviewer}
        if _p(rng, 0.5):
            out["approver"] = town.approver
        return out
    handler = town.driver if kind.chain == "drive" else rng.choices(town.handlers, (3, 2, 1))[0]
    return {"handler": handler, "office_head": town.office_head}


def _reporting(rng: random.Random, town: Town, kind: Kind, inc: Facts) -> Facts:
    """Who found it, when, and when the office registered it (concealment is scripted only)."""
    occurred = dt.datetime.fromisoformat(inc["occurred_at"])
    options = ["self", "superior", "public", "inspection"]
    weights = [town.care * 6, (1 - town.care) * 3, 0.6, (1 - town.care) * 2]
    if kind.chain == "draft":
        options.append("reviewer")
        weights.append(3)
        if not inc.get("issued_externally"):
            weights[2] = 0  # the public never sees an internal draft
    found_by = rng.choices(options, weights)[0]
    lag = {"self": (1, 8), "reviewer": (1, 5), "superior": (10, 200), "public": (3, 60)}
    low, high = lag.get(found_by, (48, 700))
    discovered = occurred + dt.timedelta(hours=rng.randint(low, high), minutes=rng.randint(0, 59))
    r = rng.random()
    if r < 0.35 + town.care * 0.5:
        delay = dt.timedelta(minutes=rng.randint(10, 58))  # on time whatever the grade
    elif r < 0.6 + town.care * 0.38:
        delay = dt.timedelta(hours=rng.randint(2, 20))  # late only for 较大 and above
    else:
        delay = dt.timedelta(hours=rng.randint(26, 110))  # late for every grade
    out: Facts = {
        "discovered_at": discovered.isoformat(),
        "found_by": found_by,
        "reported_at": (discovered + delay).isoformat(),
    }
    if found_by == "self":
        out["self_found"] = True
        if _p(rng, 0.65):
            out["corrected_in_time"] = True
    elif found_by == "reviewer":
        out["caught_in_review"] = True
    if _p(rng, 0.25):
        out["cooperated"] = True
    return out


def _random_incidents(rng: random.Random) -> list[Facts]:
    out = []
    weights = [k.weight for k in KINDS_]
    for town in TOWNS:
        for _ in range(town.incidents):
            kind = rng.choices(KINDS_, weights)[0]
            day = dt.date(YEAR, 1, 5) + dt.timedelta(days=rng.randint(0, 355))
            occurred = _at(day, rng, kind.hours)
            inc: Facts = {
                "unit": town.name,
                "occurred_at": occurred.isoformat(),
                "area": kind.area,
                "error_type": kind.error_type,
                "description": rng.choice(kind.descs).format(**_slots(rng, town)),
                "improvement": rng.choice(kind.fixes),
            }
            inc.update(_people(rng, town, kind))
            inc.update(_facts(rng, kind))
            inc.update(_reporting(rng, town, kind, inc))
            if inc.get("self_found") and inc.get("corrected_in_time"):
                inc.pop("loss", None)  # corrected in time: nothing was lost
                inc.pop("recovered_loss", None)
            out.append(inc)
    return out


def _t(text: str) -> str:
    return dt.datetime.fromisoformat(text).replace(tzinfo=TZ).isoformat()


def _times(occurred: str, discovered: str, reported: str | None = None) -> Facts:
    out = {"occurred_at": _t(occurred), "discovered_at": _t(discovered)}
    if reported is not None:
        out["reported_at"] = _t(reported)
    return out


def _scripted() -> list[Facts]:
    """Storylines that make the year's ladders and assessment worth reading."""
    mt = {"unit": "毛塘镇", "office_head": "欧阳主任"}
    duty = {**mt, "area": "duty_notice", "handler": "石小军", "found_by": "superior"}
    return [
        # 毛塘镇 石小军 keeps leaving his night shift: 诫勉 ×4 → 通报批评, 效能告诫 ×2, 不称职
        {**duty, **_times("2026-02-11T12:20", "2026-02-11T12:40", "2026-02-11T16:00"),
         "error_type": "phone_unanswered", "description": "午间县委值班室查岗电话无人接听",
         "improvement": "值班电话呼叫转移"},
        {**duty, **_times("2026-03-07T22:00", "2026-03-07T23:10", "2026-03-07T23:50"),
         "error_type": "duty_absent", "description": "夜间值班擅自离岗回家，县委值班室查岗无人应答",
         "improvement": "严格值班交接和带班制度"},
        {**duty, **_times("2026-05-16T21:30", "2026-05-16T22:05", "2026-05-16T22:45"),
         "error_type": "duty_absent", "description": "周末值班脱岗，让他人代签值班记录",
         "improvement": "值班记录实行视频签到"},
        {**duty, **_times("2026-08-22T23:00", "2026-08-22T23:30", "2026-08-23T00:15"),
         "error_type": "duty_absent", "description": "夜间值班再次离岗，防汛值守无人在岗",
         "improvement": "调离值班岗位"},
        {**duty, **_times("2026-10-31T22:40", "2026-10-31T23:20", "2026-11-01T00:05"),
         "error_type": "duty_absent", "description": "调岗后顶班期间又一次脱岗",
         "improvement": "组织处理并调整工作岗位"},
        # 毛塘镇: a landslide never reported, exposed by the press → 瞒报 (一票否决)
        {**mt, **_times("2026-06-28T03:00", "2026-06-28T09:30"), "found_by": "public",
         "area": "information", "error_type": "info_omitted", "handler": "王小兵",
         "emergency": True, "description": "夜间山体滑坡阻断县道，未向县委办报告，被媒体先行报道",
         "improvement": "突发事件信息一律先电话报告"},
        # 毛塘镇: a drafter who noticed her own typo kept quiet until an inspection found it
        {**mt, **_times("2026-09-14T10:00", "2026-10-09T10:00", "2026-10-10T09:00"),
         "found_by": "inspection", "self_found": True, "area": "drafting", "error_type": "typo",
         "drafter": "蒋丽华", "reviewer": "唐建军", "issued_externally": True,
         "description": "已印发各村的秋收秋种工作通知将“高质量发展”误写，起草人发现后未登记",
         "improvement": "差错发现后一律当日登记"},
        # 龙塘镇: a confidential document copied and spread → 重大失泄密 (一票否决)
        {**_times("2026-08-12T11:00", "2026-08-13T09:00", "2026-08-13T09:40"),
         "unit": "龙塘镇", "found_by": "superior", "area": "confidentiality",
         "error_type": "classified_doc_mishandled", "handler": "龚霞", "office_head": "何主任",
         "secret_level": "confidential", "secret_leaked": True,
         "description": "机密级文件复印件流出，被拍照转发至微信群",
         "improvement": "涉密文件复印须审批登记，开展保密警示教育"},
        # 龙塘镇: a collective decision, one member's dissent on record
        {**_times("2026-11-18T10:00", "2026-11-25T10:00", "2026-11-25T10:40"),
         "unit": "龙塘镇", "found_by": "superior", "area": "coordination",
         "error_type": "no_request_report", "collective_decision": True,
         "decision_maker": "曾志刚", "members": ["罗敏", "李建国", "何主任"],
         "dissenters": ["李建国"], "leadership_team": "龙塘镇党委班子",
         "description": "党政联席会议决定举办大型文化节，未向县委报备即组织实施；"
         "李建国反对意见记录在案",
         "improvement": "重大事项严格执行请示报告制度"},
        # 湄江镇 钟敏: three 较大差错 on top of her other errors → 诫勉 after 诫勉
        {**_times("2026-04-14T09:00", "2026-04-18T10:00", "2026-04-18T10:45"),
         "unit": "湄江镇", "found_by": "superior", "area": "document_handling",
         "error_type": "doc_overdue", "handler": "钟敏", "office_head": "龙主任",
         "delay_days": 4, "description": "县委来文滞留四天未呈送领导阅批",
         "improvement": "收文当日登记、次日呈批"},
        {**_times("2026-07-09T15:00", "2026-07-10T09:00", "2026-07-10T09:30"),
         "unit": "湄江镇", "found_by": "public", "area": "reception",
         "error_type": "reception_attitude", "handler": "钟敏", "office_head": "龙主任",
         "complaint": True, "description": "接待群众态度冷漠，群众拨打12345投诉",
         "improvement": "开展文明用语培训"},
        {**_times("2026-10-20T10:00", "2026-10-28T10:00", "2026-10-28T10:30"),
         "unit": "湄江镇", "found_by": "inspection", "area": "supervision",
         "error_type": "supervision_false_report", "handler": "钟敏", "office_head": "龙主任",
         "description": "人居环境整改未完成即上报“已整改到位”",
         "improvement": "整改情况实地复核"},
        # a few grave errors: a flood-warning night without the duty officer, a document left
        # eleven days, a supervised task half a month overdue and chased by the city
        {**_times("2026-07-01T02:00", "2026-07-01T02:40", "2026-07-01T03:20"),
         "unit": "金石镇", "found_by": "superior", "area": "duty_notice",
         "error_type": "duty_absent", "handler": "马晓东", "office_head": "杨主任",
         "emergency": True, "description": "暴雨红色预警期间值班人员脱岗，紧急转移通知未能及时传达",
         "improvement": "汛期实行领导带班、双人值守"},
        {**_times("2026-09-07T09:00", "2026-09-18T16:00", "2026-09-18T16:40"),
         "unit": "杨家滩镇", "found_by": "self", "self_found": True,
         "area": "document_handling", "error_type": "doc_overdue", "handler": "覃芳",
         "office_head": "黄主任", "delay_days": 11,
         "description": "县委关于秋冬季森林防火的紧急通知在办公室滞留十一天未呈送",
         "improvement": "紧急来文即收即呈"},
        {**_times("2026-04-01T09:00", "2026-04-16T10:00", "2026-04-16T10:50"),
         "unit": "石牛镇", "act_ended_at": _t("2026-04-17T17:00"), "found_by": "superior",
         "area": "supervision", "error_type": "supervision_overdue", "handler": "张敏",
         "office_head": "谭志强", "delay_days": 16, "leader_criticized": True,
         "description": "县委督查室交办的信访件逾期十六天未办结反馈，被县委督查室通报",
         "improvement": "督办件倒排时间、逐日跟踪"},
        # 金石镇: a seal obtained with forged papers (免予追究); 杨家滩镇: a landslide (不可抗力)
        {**_times("2026-05-12T10:00", "2026-05-20T10:00", "2026-05-20T10:30"),
         "unit": "金石镇", "found_by": "superior", "area": "document_handling",
         "error_type": "seal_error", "handler": "马晓东", "issued_externally": True,
         "forged_material": True, "description": "申请人提供伪造证明材料骗取盖章证明",
         "improvement": "盖章证明实行材料核验"},
        {**_times("2026-06-15T07:00", "2026-06-15T07:30", "2026-06-15T08:00"),
         "unit": "杨家滩镇", "found_by": "self", "self_found": True, "area": "logistics",
         "error_type": "vehicle_failure", "handler": "彭师傅", "office_head": "黄主任",
         "meeting_affected": True, "force_majeure": True,
         "description": "山体滑坡阻断道路，车辆未能按时送达参会领导",
         "improvement": "汛期出车预留备用路线"},
    ]  # fmt: skip


def _events(rng: random.Random) -> list[Facts]:
    out: list[Facts] = []
    for town in TOWNS:
        titles = [town.name + t for t in TITLES.split()]
        rng.shuffle(titles)
        for kind, expected in town.events:
            n = int(expected) + (1 if _p(rng, expected - int(expected)) else 0)
            for _ in range(n):
                day = dt.date(YEAR, 1, 10) + dt.timedelta(days=rng.randint(0, 345))
                count = 2 if kind == "missing_submission" and _p(rng, 0.3) else 1
                title = titles.pop() if titles else town.name + rng.choice(TITLES.split())
                month = day.month - 1 or 12  # submissions are for the month before
                note = EVENT_NOTES[kind].format(title=title, month=month, count=count)
                ev: Facts = {"event": kind, "unit": town.name, "date": day.isoformat()}
                ev["note"] = note
                if count > 1:
                    ev["count"] = count
                out.append(ev)
    # 毛塘镇's landslide omission is an information-work failure too
    out.append(
        {"event": "omitted_urgent_report", "unit": "毛塘镇", "date": "2026-06-29",
         "note": "6月28日山体滑坡阻断县道信息漏报，被县委办通报"}
    )  # fmt: skip
    return out


FIRST = ("id", "event", "unit", "date", "occurred_at", "act_ended_at", "discovered_at",
         "found_by", "reported_at", "area", "error_type", "description", "improvement")  # fmt: skip


def _ordered(item: Facts) -> Facts:
    keys = [k for k in FIRST if k in item] + sorted(k for k in item if k not in FIRST)
    return {k: item[k] for k in keys}


def build() -> list[Facts]:
    """Every line of the file: incidents and events, in date order, with their ids."""
    rng = random.Random(2026)
    incidents = _random_incidents(rng) + _scripted()
    incidents.sort(key=lambda i: (i["occurred_at"], i["unit"]))
    seq: dict[str, int] = {}
    codes = {t.name: t.code for t in TOWNS}
    for inc in incidents:
        code = codes[inc["unit"]]
        seq[code] = seq.get(code, 0) + 1
        inc["id"] = f"{code}-{YEAR}-{seq[code]:03d}"
    events = sorted(_events(rng), key=lambda e: (e["date"], e["unit"], e["event"]))
    for i, ev in enumerate(events, 1):
        ev["id"] = f"EV-{i:04d}"
    # An event is filed at the end of its day, after that day's incidents.
    lines = [(i["occurred_at"][:10], 0, i["occurred_at"], _ordered(i)) for i in incidents]
    lines += [(e["date"], 1, "", _ordered(e)) for e in events]
    lines.sort(key=lambda x: (x[0], x[1], x[2]))
    return [x[3] for x in lines]


def main(argv: list[str] | None = None) -> int:
    out = Path(argv[0]) if argv else OUT  # another path: to compare without overwriting
    lines = build()
    out.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines), "utf-8")
    n_events = sum("event" in x for x in lines)
    print(f"wrote {out}: {len(lines) - n_events} incidents, {n_events} events")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
