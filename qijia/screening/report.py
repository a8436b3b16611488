"""A self-contained HTML report for reviewers: per application its findings, with the two photos
side by side (embedded base64 thumbnails), the two invoices side by side, and the relationship
path drawn as a small inline SVG graph.

Everything from the bundle is untrusted: every value goes through ``html.escape`` (attributes
included) and images are re-encoded thumbnails, never the original bytes, so a crafted file can't
smuggle markup or script into the page.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
from collections import defaultdict
from html import escape
from typing import Any

from qijia.screening.model import Bundle, Finding

KIND_LABELS = {
    "invalid_uscc": "统一社会信用代码无效",
    "ineligible_applicant": "申报单位在不予资助名单内",
    "blacklisted_applicant": "申报单位在失信黑名单内",
    "duplicate_photo": "照片重复",
    "duplicate_invoice": "发票重复",
    "invoice_buyer_mismatch": "发票购买方不是申报单位",
    "invoice_outside_period": "发票开具日期不在项目期内",
    "related_party_supplier": "供应商为关联方",
}
SEVERITY_LABELS = {"high": "高", "medium": "中", "low": "低"}
THUMB = 260

_CSS = """
body{font-family:"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:2rem;color:#1f2933}
h1{font-size:1.5rem}h2{font-size:1.15rem;border-bottom:1px solid #cbd2d9;padding-bottom:.3rem}
.app{margin:1.5rem 0 2.5rem}.finding{border:1px solid #d9e2ec;border-radius:6px;padding:.8rem;
margin:.8rem 0}.sev-high{border-left:6px solid #c62828}.sev-medium{border-left:6px solid #ef6c00}
.sev-low{border-left:6px solid #9e9e9e}.tag{display:inline-block;font-size:.8rem;padding:0 .4rem;
border-radius:4px;background:#eef2f7;margin-right:.4rem}.pair{display:flex;gap:1rem;flex-wrap:wrap}
.pair figure{margin:0}.pair img{max-width:260px;max-height:260px;border:1px solid #ccc}
table.inv{border-collapse:collapse;font-size:.85rem}table.inv td,table.inv th{border:1px solid #d9e2ec;
padding:.2rem .5rem;text-align:left}dl{display:grid;grid-template-columns:max-content auto;gap:.2rem 1rem}
dt{color:#52606d}.summary td,.summary th{padding:.2rem .8rem;text-align:left}
"""


def _thumbnail(bundle: Bundle, file: str, cache: dict[str, str]) -> str:
    """A data: URI of a small JPEG thumbnail ('' if the file can no longer be read)."""
    if file in cache:
        return cache[file]
    uri = ""
    try:
        from PIL import Image

        with Image.open(io.BytesIO(bundle.read_bytes(file))) as im:
            im.draft("RGB", (THUMB * 2, THUMB * 2))
            rgb = im.convert("RGB")
            rgb.thumbnail((THUMB, THUMB))
            out = io.BytesIO()
            rgb.save(out, "JPEG", quality=75)
        uri = "data:image/jpeg;base64," + base64.b64encode(out.getvalue()).decode("ascii")
    except Exception:  # noqa: BLE001 - a report must not fail on one image
        uri = ""
    cache[file] = uri
    return uri


def _figure(bundle: Bundle, file: str, label: str, thumbs: dict[str, str]) -> str:
    uri = _thumbnail(bundle, file, thumbs)
    img = f'<img src="{escape(uri)}" alt="{escape(file)}">' if uri else "<em>（无法显示）</em>"
    return f"<figure>{img}<figcaption>{escape(label)}：{escape(file)}</figcaption></figure>"


def _photo_pair(bundle: Bundle, ev: dict[str, Any], thumbs: dict[str, str]) -> str:
    """The two photos side by side; for a chain (evidence ``via``), every photo between them in
    order, so a reviewer checks each verified link with their own eyes."""
    links = [
        (str(p.get("file", "")), f"经由申报 {p.get('application_id', '')}")
        for p in ev.get("via") or []
    ]
    photos = [
        (str(ev.get("file", "")), "本申报"),
        *links,
        (str(ev.get("other_file", "")), f"申报 {ev.get('other_application_id', '')}"),
    ]
    figures = "".join(_figure(bundle, file, label, thumbs) for file, label in photos)
    note = "<p>相邻两张照片均已逐一核验为同一张照片。</p>" if links else ""
    return f'<div class="pair">{figures}</div>{note}'


_INVOICE_FIELDS = (
    ("application_id", "申报编号"),
    ("invoice_code", "发票代码"),
    ("invoice_number", "发票号码"),
    ("issued_on", "开票日期"),
    ("seller_name", "销售方"),
    ("seller_tax_id", "销售方税号"),
    ("buyer_name", "购买方"),
    ("buyer_tax_id", "购买方税号"),
    ("amount", "金额（元）"),
    ("tax", "税额（元）"),
)


def _invoice_table(invoices: list[dict[str, Any]]) -> str:
    head = "".join(f"<th>{escape(f'发票 {i + 1}')}</th>" for i in range(len(invoices)))
    rows = []
    for key, label in _INVOICE_FIELDS:
        cells = "".join(f"<td>{escape(str(inv.get(key, '')))}</td>" for inv in invoices)
        rows.append(f"<tr><th>{escape(label)}</th>{cells}</tr>")
    return f'<table class="inv"><tr><th></th>{head}</tr>{"".join(rows)}</table>'


ROLE_LABELS = {
    "legal_representative": "法定代表人",
    "shareholder": "股东",
    "director": "董事",
    "supervisor": "监事",
    "manager": "经理",
    "finance_contact": "财务负责人",
    "contact": "联系人",
}
EVIDENCE_LABELS = {
    "field": "字段",
    "value": "值",
    "problem": "问题",
    "party": "当事方",
    "seller_name": "销售方",
    "invoice_code": "发票代码",
    "invoice_number": "发票号码",
    "list": "名单",
    "category": "类别",
    "reason": "原因",
    "source": "来源",
    "valid_from": "有效期起",
    "valid_to": "有效期止",
    "uscc": "统一社会信用代码",
    "submitted_on": "申报日",
    "as_of": "核查日",
    "covers_submitted_on": "申报日在有效期内",
    "covers_as_of": "核查日在有效期内",
    "registry_line": "名单文件行号",
    "other_application_id": "另一申报",
    "file": "照片",
    "other_file": "另一照片",
    "caption": "说明",
    "other_caption": "另一照片说明",
    "sha256": "内容摘要",
    "other_sha256": "另一内容摘要",
    "buyer_tax_id": "购买方税号",
    "buyer_name": "购买方",
    "applicant_uscc": "申报单位代码",
    "issued_on": "开票日期",
    "period_start": "项目期起",
    "period_end": "项目期止",
    "seller_tax_id": "销售方税号",
    "hops": "关联步数",
    "method": "核验方法",
    "matches": "匹配点数",
    "inliers": "一致匹配点数",
    "mirrored": "镜像",
    "ncc": "对齐后像素相关系数",
    "worst_block": "最差区块相关系数",
    "stretch": "拉伸",
    "identical_content": "文件内容相同",
}


def _role_label(label: str) -> str:
    base, _, share = label.partition("(")
    return ROLE_LABELS.get(base, base) + (f"({share}" if share else "")


_NODE_COLOURS = {
    "enterprise": "#1565c0",
    "person": "#2e7d32",
    "phone": "#6a1b9a",
    "email": "#6a1b9a",
}
_NODE_LABELS = {"enterprise": "企业", "person": "人员", "phone": "电话", "email": "邮箱"}
_EDGE_LABELS = {"role": "任职", "holding": "持股", "phone": "电话", "email": "邮箱"}


def path_svg(path: list[dict[str, Any]]) -> str:
    """The path (alternating node and edge dicts) as a left-to-right inline SVG."""
    nodes = [p for p in path if p.get("element") == "node"]
    edges = [p for p in path if p.get("element") == "edge"]
    step, width_node, height = 250, 150, 120
    width = max(1, len(nodes)) * step
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'role="img" aria-label="关联路径">'
    ]
    for k, edge in enumerate(edges):
        x1 = k * step + width_node
        x2 = (k + 1) * step
        label = _EDGE_LABELS.get(str(edge.get("type")), str(edge.get("type", "")))
        if edge.get("type") == "role" and edge.get("roles"):
            label += "：" + "、".join(_role_label(str(r)) for r in edge["roles"])
        if edge.get("type") == "holding" and edge.get("share_pct"):
            label += f" {edge['share_pct']}%"
        out.append(f'<line x1="{x1}" y1="60" x2="{x2}" y2="60" stroke="#52606d" stroke-width="2"/>')
        out.append(
            f'<text x="{(x1 + x2) / 2}" y="52" font-size="10" text-anchor="middle">'
            f"<title>{escape(label)}</title>{escape(label[:16])}</text>"
        )
    for k, node in enumerate(nodes):
        x = k * step
        kind = str(node.get("type", ""))
        colour = _NODE_COLOURS.get(kind, "#616161")
        title = node.get("name") or node.get("id") or ""
        out.append(
            f'<rect x="{x}" y="35" width="{width_node}" height="50" rx="8" '
            f'fill="white" stroke="{colour}" stroke-width="2"/>'
        )
        out.append(
            f'<text x="{x + width_node / 2}" y="55" font-size="11" text-anchor="middle" '
            f'fill="{colour}">{escape(_NODE_LABELS.get(kind, kind))}：'
            f"{escape(str(title)[:12])}</text>"
        )
        out.append(
            f'<text x="{x + width_node / 2}" y="72" font-size="9" text-anchor="middle">'
            f"{escape(str(node.get('id', ''))[:24])}</text>"
        )
    out.append("</svg>")
    return "".join(out)


def _evidence_list(ev: dict[str, Any], skip: set[str]) -> str:
    items = []
    for key, value in ev.items():
        if key in skip or isinstance(value, dict | list):
            continue
        label = EVIDENCE_LABELS.get(str(key), str(key))
        if isinstance(value, bool):
            value = "是" if value else "否"
        items.append(f"<dt>{escape(label)}</dt><dd>{escape(str(value))}</dd>")
    return f"<dl>{''.join(items)}</dl>" if items else ""


def _finding_html(bundle: Bundle, f: Finding, thumbs: dict[str, str]) -> str:
    ev = f.evidence
    body = [
        f'<div class="finding sev-{escape(f.severity)}">',
        f'<span class="tag">{escape(KIND_LABELS.get(f.kind, f.kind))}</span>',
        f'<span class="tag">严重程度：{escape(SEVERITY_LABELS.get(f.severity, f.severity))}</span>',
        f"<p>{escape(f.summary)}</p>",
    ]
    if f.kind == "duplicate_photo":
        body.append(_photo_pair(bundle, ev, thumbs))
    elif f.kind == "duplicate_invoice":
        body.append(_invoice_table([ev.get("invoice", {}), *ev.get("other_invoices", [])]))
    elif f.kind in ("invoice_buyer_mismatch", "invoice_outside_period") and ev.get("invoice"):
        body.append(_invoice_table([ev["invoice"]]))
    elif f.kind == "related_party_supplier" and ev.get("path"):
        body.append(path_svg(ev["path"]))
    body.append(_evidence_list(ev, {"path"}))
    body.append("</div>")
    return "".join(body)


def render_report(bundle: Bundle, findings: list[Finding], as_of: dt.date) -> str:
    apps = {a.application_id: a for a in bundle.applications}
    names = {e.uscc.strip().upper(): e.name for e in bundle.enterprises}
    by_app: dict[str, list[Finding]] = defaultdict(list)
    for f in findings:
        by_app[f.application_id].append(f)
    counts: dict[str, int] = defaultdict(int)
    for f in findings:
        counts[f.kind] += 1
    title = str(bundle.manifest.get("title") or "诚信核查")
    thumbs: dict[str, str] = {}
    html = [
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "img-src data:; style-src 'unsafe-inline'\">",
        f"<title>{escape(title)} — 筛查报告</title><style>{_CSS}</style></head><body>",
        f"<h1>{escape(title)} — 诚信筛查报告</h1>",
        f"<p>核查日：{escape(as_of.isoformat())}；申报 {len(apps)} 个，"
        f"有问题的申报 {len(by_app)} 个，问题 {len(findings)} 条。</p>",
        '<table class="summary"><tr><th>问题类型</th><th>条数</th></tr>',
    ]
    for kind, label in KIND_LABELS.items():
        html.append(f"<tr><td>{escape(label)}</td><td>{counts.get(kind, 0)}</td></tr>")
    html.append("</table>")
    for app_id in sorted(by_app):
        app = apps.get(app_id)
        applicant = app.uscc if app else ""
        html.append(f'<section class="app" id="app-{escape(app_id)}">')
        html.append(f"<h2>申报 {escape(app_id)}：{escape(app.title if app else '')}</h2>")
        if app is not None:
            html.append(
                f"<p>申报单位：{escape(names.get(applicant.strip().upper(), ''))}（{escape(applicant)}）；"
                f"项目期：{escape(str(app.period_start))} 至 {escape(str(app.period_end))}；"
                f"申报日：{escape(str(app.submitted_on))}；"
                f"申请金额：{escape(str(app.amount_requested or ''))} 元</p>"
            )
        for f in by_app[app_id]:
            html.append(_finding_html(bundle, f, thumbs))
        html.append("</section>")
    html.append("</body></html>")
    return "\n".join(html)
