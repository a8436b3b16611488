"""related_party_supplier: a seller that is the applicant itself or joined to it by <= 4 edges.

The graph (integrity-bundle.md):
- nodes: enterprises (by normalised USCC / tax ID), persons (merged, see below), phone numbers and
  e-mail addresses (normalised);
- edges: a person's role in an enterprise (any role), a holding (any share), an enterprise's or a
  person's phone / e-mail — except hub contacts (> 10 distinct enterprises, directly or through
  their persons), which make no edges. Addresses make no edges.

Persons are merged with a union-find: equal normalised ID numbers always merge; a row without an
ID number merges with a row of the same (non-empty) name that shares a normalised phone or e-mail.
Two rows with different ID numbers are never merged, not even through a third row.

Search: the graph is a CSR matrix (scipy.sparse). For every distinct applicant and seller node we
take its radius-2 ball (one sparse product); a pair is within 4 edges exactly when the two balls
intersect, because the middle node of a shortest path is at most 2 from each end. That is a
vectorised row-wise product over all pairs at once. Only the pairs found related go to a small
bidirectional BFS that reconstructs one shortest path for the evidence (ties broken by the lowest
node index, so output is deterministic).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from qijia.core.identifiers import mask_id_number
from qijia.screening.model import Bundle, Finding, Progress
from qijia.screening.normalize import normalize_email, normalize_id_number, normalize_phone, tax_id

MAX_HOPS = 4
HUB_THRESHOLD = 10  # a contact shared by MORE than this many enterprises is a hub

ENTERPRISE, PERSON, PHONE, EMAIL = 0, 1, 2, 3
NODE_TYPES = ("enterprise", "person", "phone", "email")


class _UnionFind:
    def __init__(self, n: int, labels: list[str]):
        self.parent = list(range(n))
        self.label = list(labels)  # the ID number carried by each component root ("" = none)

    def find(self, x: int) -> int:
        parent = self.parent
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    def union(self, a: int, b: int) -> bool:
        """Merge unless the two components carry different ID numbers."""
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return True
        la, lb = self.label[ra], self.label[rb]
        if la and lb and la != lb:
            return False
        if rb < ra:
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.label[ra] = la or lb
        return True


def merge_persons(
    names: Sequence[str], id_numbers: Sequence[str], phones: Sequence[str], emails: Sequence[str]
) -> list[int]:
    """Component index (the lowest row index of the merged person) for each person row.

    Inputs are raw column values; they are normalised here.
    """
    n = len(names)
    ids = [normalize_id_number(v) for v in id_numbers]
    uf = _UnionFind(n, ids)
    first_by_id: dict[str, int] = {}
    for i, pid in enumerate(ids):
        if pid:
            j = first_by_id.setdefault(pid, i)
            if j != i:
                uf.union(j, i)

    # Only (name, contact) keys that some row WITHOUT an ID number carries can merge anything.
    def contact_keys(i: int) -> list[tuple[str, str]]:
        name = names[i].strip()
        if not name:
            return []
        out = []
        if phones[i]:
            phone = normalize_phone(phones[i])
            if phone:
                out.append((name, "T" + phone))
        if emails[i]:
            email = normalize_email(emails[i])
            if email:
                out.append((name, "M" + email))
        return out

    by_name_contact: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i in range(n):
        if not ids[i]:
            for key in contact_keys(i):
                by_name_contact[key].append(i)
    if by_name_contact:
        for i in range(n):
            if ids[i] and names[i].strip():
                for key in contact_keys(i):
                    group = by_name_contact.get(key)
                    if group is not None:
                        group.append(i)
    for group in by_name_contact.values():
        if len(group) < 2:
            continue
        for i in group:
            if ids[i]:
                continue
            for j in group:
                if j != i:
                    uf.union(i, j)
    return [uf.find(i) for i in range(n)]


@dataclass
class Graph:
    """Nodes, the CSR adjacency, and what is needed to describe a path to a reviewer."""

    keys: list[str]  # "E:<uscc>", "P:<row>", "T:<phone>", "M:<email>"
    index: dict[str, int]
    adjacency: sp.csr_matrix
    hubs: dict[str, int]  # hub contact key -> number of distinct enterprises
    bundle: Bundle | None = None
    person_rows: dict[int, list[int]] | None = None  # person node -> bundle.persons indices
    raw_enterprise: dict[str, int] | None = None  # raw code as written -> node (a cache)
    enterprise_row: dict[int, int] | None = None  # node -> index in bundle.enterprises
    # which bundle rows made which edges, for describing paths without rescanning every row
    role_person: np.ndarray | None = None
    role_enterprise: np.ndarray | None = None
    role_row: np.ndarray | None = None
    holding_a: np.ndarray | None = None
    holding_b: np.ndarray | None = None

    @property
    def node_count(self) -> int:
        return len(self.keys)

    @property
    def edge_count(self) -> int:
        return int(self.adjacency.nnz // 2)

    def node(self, uscc: str) -> int | None:
        """The enterprise node of a code as written in any file (None if not in the graph)."""
        if self.raw_enterprise is not None:
            hit = self.raw_enterprise.get(uscc)
            if hit is not None:
                return hit
        return self.index.get("E:" + tax_id(uscc))

    def neighbours(self, u: int) -> np.ndarray:
        a = self.adjacency
        return a.indices[a.indptr[u] : a.indptr[u + 1]]

    # --- bulk relatedness ---------------------------------------------------------------------

    def within(self, pairs: Sequence[tuple[int, int]], max_hops: int = MAX_HOPS) -> np.ndarray:
        """Boolean array: is pair i joined by a path of at most ``max_hops`` (<= 4) edges?"""
        if not len(pairs):
            return np.zeros(0, dtype=bool)
        arr = np.asarray(pairs, dtype=np.int64)
        left, right = arr[:, 0], arr[:, 1]
        reach = _ball_step(self.adjacency)
        radius_l = (max_hops + 1) // 2
        radius_r = max_hops // 2
        ul, inv_l = np.unique(left, return_inverse=True)
        ur, inv_r = np.unique(right, return_inverse=True)
        ball_l = _balls(reach, ul, radius_l)
        ball_r = _balls(reach, ur, radius_r)
        x = ball_l[inv_l]
        y = ball_r[inv_r]
        hit = np.asarray(x.multiply(y).sum(axis=1)).ravel() > 0
        return hit | (left == right)

    def shortest_path(self, a: int, b: int, max_hops: int = MAX_HOPS) -> list[int] | None:
        """One shortest path a..b of at most ``max_hops`` edges (node indices), or None."""
        if a == b:
            return [a]
        half_a = (max_hops + 1) // 2
        half_b = max_hops // 2
        pa = self._bfs(a, half_a)
        pb = self._bfs(b, half_b)
        best: tuple[int, int] | None = None
        for m, (da, _) in pa.items():
            hit = pb.get(m)
            if hit is None:
                continue
            key = (da + hit[0], m)
            if best is None or key < best:
                best = key
        if best is None or best[0] > max_hops:
            return None
        m = best[1]
        left = _unwind(pa, m)
        right = _unwind(pb, m)
        return left[::-1] + right[1:]

    def _bfs(self, start: int, depth: int) -> dict[int, tuple[int, int]]:
        seen: dict[int, tuple[int, int]] = {start: (0, -1)}
        frontier = [start]
        indptr, indices = self.adjacency.indptr, self.adjacency.indices
        for d in range(1, depth + 1):
            nxt = []
            for u in frontier:
                for v in indices[indptr[u] : indptr[u + 1]].tolist():
                    if v not in seen:
                        seen[v] = (d, u)
                        nxt.append(v)
            frontier = nxt
        return seen


def _unwind(parents: dict[int, tuple[int, int]], node: int) -> list[int]:
    out = [node]
    while parents[node][1] != -1:
        node = parents[node][1]
        out.append(node)
    return out


def _ball_step(adjacency: sp.csr_matrix) -> sp.csr_matrix:
    n = adjacency.shape[0]
    step = (adjacency + sp.identity(n, dtype=np.float32, format="csr")).tocsr()
    step.data[:] = 1.0
    return step


def _balls(step: sp.csr_matrix, nodes: np.ndarray, radius: int) -> sp.csr_matrix:
    ball = step[nodes] if radius >= 1 else sp.identity(step.shape[0], format="csr")[nodes]
    for _ in range(radius - 1):
        ball = (ball @ step).tocsr()
        ball.data[:] = 1.0
    return ball.astype(np.float32)


def build_graph(bundle: Bundle) -> Graph:
    """The relationship graph of a bundle (see the module docstring for the rules)."""
    index: dict[str, int] = {}
    keys: list[str] = []
    raw_enterprise: dict[str, int] = {}

    def node(key: str) -> int:
        i = index.get(key)
        if i is None:
            i = index[key] = len(keys)
            keys.append(key)
        return i

    def ent(raw: str) -> int:
        i = raw_enterprise.get(raw)
        if i is None:
            i = raw_enterprise[raw] = node("E:" + tax_id(raw))
        return i

    persons = bundle.persons
    comp = merge_persons(
        [p.name for p in persons],
        [p.id_number for p in persons],
        [p.phone for p in persons],
        [p.email for p in persons],
    )
    person_rows: dict[int, list[int]] = {}
    person_node_of_root: dict[int, int] = {}
    person_node_of_key: dict[str, int] = {}
    for i, root in enumerate(comp):
        n = person_node_of_root.get(root)
        if n is None:
            n = person_node_of_root[root] = node(f"P:{root}")
            person_rows[n] = [i]
        else:
            person_rows[n].append(i)
        person_node_of_key[persons[i].person_key] = n

    enterprise_row: dict[int, int] = {}
    for row_i, e in enumerate(bundle.enterprises):
        enterprise_row.setdefault(ent(e.uscc), row_i)
    # roles: person -- enterprise; holdings: enterprise -- enterprise
    role_p: list[int] = []
    role_e: list[int] = []
    role_rows: list[int] = []
    pget, rget = person_node_of_key.get, raw_enterprise.get
    p_append, e_append, r_append = role_p.append, role_e.append, role_rows.append
    for row_i, r in enumerate(bundle.roles):
        p = pget(r.person_key)
        if p is None:
            continue
        e_node = rget(r.uscc)
        p_append(p)
        e_append(ent(r.uscc) if e_node is None else e_node)
        r_append(row_i)
    hold_a: list[int] = []
    hold_b: list[int] = []
    for h in bundle.holdings:
        a_node = rget(h.holder_uscc)
        b_node = rget(h.held_uscc)
        hold_a.append(ent(h.holder_uscc) if a_node is None else a_node)
        hold_b.append(ent(h.held_uscc) if b_node is None else b_node)

    # contacts (normalised) and their owners
    contact_owner: list[int] = []
    contact_node: list[int] = []

    def add_contacts(owner: int, raw_phone: str, raw_email: str) -> None:
        if raw_phone:
            phone = normalize_phone(raw_phone)
            if phone:
                contact_owner.append(owner)
                contact_node.append(node("T:" + phone))
        if raw_email:
            email = normalize_email(raw_email)
            if email:
                contact_owner.append(owner)
                contact_node.append(node("M:" + email))

    for row in bundle.enterprises:
        # every enterprise row got its node above, so ent() only looks it up
        add_contacts(ent(row.uscc), row.phone, row.email)
    for i, person in enumerate(persons):
        add_contacts(person_node_of_root[comp[i]], person.phone, person.email)

    # hubs: distinct enterprises per contact, directly or through the owner's roles (sparse)
    n = len(keys)
    owners = np.asarray(contact_owner, dtype=np.int64)
    contacts = np.asarray(contact_node, dtype=np.int64)
    ones = np.ones(len(owners), dtype=np.float32)
    incidence = sp.csr_matrix((ones, (contacts, owners)), shape=(n, n))
    rp = np.asarray(role_p, dtype=np.int64)
    re_ = np.asarray(role_e, dtype=np.int64)
    roles_m = sp.csr_matrix((np.ones(len(rp), dtype=np.float32), (rp, re_)), shape=(n, n))
    is_enterprise = np.zeros(n, dtype=np.float32)
    is_enterprise[[i for i, k in enumerate(keys) if k[0] == "E"]] = 1.0
    direct = incidence @ sp.diags(is_enterprise)
    reach = (direct + incidence @ roles_m).tocsr()
    reach.eliminate_zeros()
    counts = np.diff(reach.indptr)
    hub_nodes = np.flatnonzero(counts > HUB_THRESHOLD)
    hubs = {keys[i]: int(counts[i]) for i in hub_nodes.tolist()}
    keep = ~np.isin(contacts, hub_nodes)

    ha = np.asarray(hold_a, dtype=np.int64)
    hb = np.asarray(hold_b, dtype=np.int64)
    u = np.concatenate([rp, ha, owners[keep]])
    v = np.concatenate([re_, hb, contacts[keep]])
    loops = u == v
    u, v = u[~loops], v[~loops]

    # every seller and applicant is a party even if it appears nowhere else
    for a in bundle.applications:
        ent(a.uscc)
    for inv in bundle.invoices:
        if inv.seller_tax_id:
            ent(inv.seller_tax_id)

    n = len(keys)
    data = np.ones(2 * len(u), dtype=np.float32)
    adjacency = sp.csr_matrix(
        (data, (np.concatenate([u, v]), np.concatenate([v, u]))), shape=(n, n)
    )
    adjacency.sum_duplicates()
    adjacency.sort_indices()
    adjacency.data[:] = 1.0
    return Graph(
        keys=keys,
        index=index,
        adjacency=adjacency,
        hubs=hubs,
        bundle=bundle,
        person_rows=person_rows,
        raw_enterprise=raw_enterprise,
        enterprise_row=enterprise_row,
        role_person=rp,
        role_enterprise=re_,
        role_row=np.asarray(role_rows, dtype=np.int64),
        holding_a=ha,
        holding_b=hb,
    )


# --- evidence ---------------------------------------------------------------------------------


def describe_paths(graph: Graph, paths: list[list[int]]) -> list[list[dict[str, Any]]]:
    """Evidence for many paths at once: one pass over the rows for names and edge details."""
    bundle = graph.bundle
    assert bundle is not None
    on_paths = {i for path in paths for i in path}
    rows = graph.enterprise_row or {}
    names = {graph.keys[i][2:]: bundle.enterprises[rows[i]].name for i in on_paths if i in rows}
    needed: set[tuple[int, int]] = set()
    for path in paths:
        for k in range(len(path) - 1):
            needed.add((path[k], path[k + 1]))
            needed.add((path[k + 1], path[k]))
    edge_info = _edge_info(graph, needed)
    out = []
    for path in paths:
        described: list[dict[str, Any]] = []
        for k, i in enumerate(path):
            described.append(_describe_node(graph, i, names))
            if k + 1 < len(path):
                described.append(
                    edge_info.get((i, path[k + 1]), {"element": "edge", "type": "unknown"})
                )
        out.append(described)
    return out


def _describe_node(graph: Graph, i: int, names: dict[str, str]) -> dict[str, Any]:
    key = graph.keys[i]
    kind, value = key[0], key[2:]
    if kind == "E":
        return {"element": "node", "type": "enterprise", "id": value, "name": names.get(value, "")}
    if kind == "P":
        assert graph.bundle is not None and graph.person_rows is not None
        rows = [graph.bundle.persons[r] for r in graph.person_rows.get(i, [])]
        ids = sorted({normalize_id_number(p.id_number) for p in rows if p.id_number})
        return {
            "element": "node",
            "type": "person",
            "id": rows[0].person_key if rows else value,
            "name": rows[0].name if rows else "",
            "person_keys": [p.person_key for p in rows],
            "id_number_masked": mask_id_number(ids[0]) if ids else "",
        }
    return {"element": "node", "type": "phone" if kind == "T" else "email", "id": value}


def _edge_info(graph: Graph, needed: set[tuple[int, int]]) -> dict[tuple[int, int], dict]:
    """Describe the edges on the paths, reading only the rows that touch nodes on them."""
    bundle = graph.bundle
    assert bundle is not None
    info: dict[tuple[int, int], dict] = {}
    involved = np.fromiter({a for a, _ in needed}, dtype=np.int64)
    rp, re_, rrow = graph.role_person, graph.role_enterprise, graph.role_row
    assert rp is not None and re_ is not None and rrow is not None
    for k in np.flatnonzero(np.isin(rp, involved)).tolist():
        p, e = int(rp[k]), int(re_[k])
        if (p, e) not in needed:
            continue
        r = bundle.roles[int(rrow[k])]
        edge = info.setdefault((p, e), {"element": "edge", "type": "role", "roles": []})
        label = r.role + (f"({r.share_pct}%)" if r.share_pct is not None else "")
        if label not in edge["roles"]:
            edge["roles"].append(label)
        info[(e, p)] = edge
    ha, hb = graph.holding_a, graph.holding_b
    assert ha is not None and hb is not None
    for k in np.flatnonzero(np.isin(ha, involved)).tolist():
        a, b = int(ha[k]), int(hb[k])
        if (a, b) in needed and (a, b) not in info:
            h = bundle.holdings[k]
            edge = {
                "element": "edge",
                "type": "holding",
                "holder": tax_id(h.holder_uscc),
                "held": tax_id(h.held_uscc),
                "share_pct": str(h.share_pct) if h.share_pct is not None else "",
            }
            info[(a, b)] = info[(b, a)] = edge
    for a, b in needed:
        key = graph.keys[b]
        if (a, b) not in info and key[0] in "TM":
            info[(a, b)] = info[(b, a)] = {
                "element": "edge",
                "type": "phone" if key[0] == "T" else "email",
            }
    return info


_HOP_WORD = {0: "即申报单位本身", 1: "直接关联", 2: "经2步关联", 3: "经3步关联", 4: "经4步关联"}


def detect(
    bundle: Bundle,
    graph: Graph | None = None,
    progress: Progress | None = None,
) -> list[Finding]:
    graph = graph or build_graph(bundle)
    apps = {a.application_id: a for a in bundle.applications}
    applicant_node = {app_id: graph.node(a.uscc) for app_id, a in apps.items()}
    seen: dict[tuple[str, int], int] = {}
    pairs: list[tuple[str, int]] = []  # (application_id, seller node)
    first_invoice: list[int] = []
    node_of = graph.node
    for k, inv in enumerate(bundle.invoices):
        if not inv.seller_tax_id:
            continue
        seller = node_of(inv.seller_tax_id)
        if seller is None or graph.keys[seller] == "E:":  # blank after normalisation
            continue
        key = (inv.application_id, seller)
        if key not in seen:
            seen[key] = len(pairs)
            pairs.append(key)
            first_invoice.append(k)
    node_pairs: list[tuple[int, int]] = []
    for app_id, seller in pairs:
        applicant = applicant_node[app_id]
        assert applicant is not None  # build_graph makes every applicant a node
        node_pairs.append((applicant, seller))
    related = graph.within(node_pairs)
    hits = np.flatnonzero(related).tolist()
    iterator = progress(hits, desc="关联路径", unit="对") if progress else hits
    found: list[tuple[int, list[int]]] = []
    for k in iterator:
        path = graph.shortest_path(*node_pairs[k])
        if path is not None:
            found.append((k, path))
    descriptions = describe_paths(graph, [path for _, path in found])
    findings: list[Finding] = []
    for (k, path), described in zip(found, descriptions, strict=True):
        app_id = pairs[k][0]
        seller_tax_id = graph.keys[pairs[k][1]][2:]
        seller_name = bundle.invoices[first_invoice[k]].seller_name
        hops = len(path) - 1
        via = "、".join(p.get("name") or p["id"] for p in described[2:-1:2])
        summary = (
            f"供应商“{seller_name or seller_tax_id}”（{seller_tax_id}）"
            + (f"与申报单位{_HOP_WORD[hops]}" if hops else _HOP_WORD[0])
            + (f"（经由{via}）" if via else "")
            + "。"
        )
        findings.append(
            Finding(
                application_id=app_id,
                kind="related_party_supplier",
                severity="high",
                summary=summary,
                evidence={
                    "seller_tax_id": seller_tax_id,
                    "seller_name": seller_name,
                    "applicant_uscc": tax_id(apps[app_id].uscc),
                    "hops": hops,
                    "path": described,
                },
            )
        )
    return findings
