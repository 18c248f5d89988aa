"""`slim profile`'s report: the handler's import, module by module and distribution by distribution, and the
lazy-import list, in text, JSON (the whole tree), markdown, and a self-contained HTML page with the tree to open."""

from __future__ import annotations

import html
import json
from importlib import resources
from typing import Any

from lambda_slim._sandbox.importprofile import Deferrable, ImportNode, ImportProfile

SCHEMA = "lambda-slim/import-profile/1"
TOP = 20  # modules the text and markdown list; JSON has the whole tree
TOP_DEFERRABLE = 10
CHAINS = 5  # the slowest imports whose chain the text and markdown show


def _basis(profile: ImportProfile) -> str:
    return (
        f"medians of {profile.runs} fresh sandbox processes under -X importtime (its own overhead included); "
        "cumulative includes what a module imported first"
    )


def _no_events() -> str:
    return (
        "the lazy-import list needs events: pass --event FILE (repeatable) or set [tool.slim] event, so the "
        "profile can see which imports an invocation uses. Nothing was judged deferrable or not."
    )


def _chain(deferrable: Deferrable) -> str:
    return " -> ".join(deferrable.chain)


def to_text(profile: ImportProfile) -> str:
    lines = [
        f"import profile of {profile.handler}: init {profile.init_ms:,.1f} ms "
        f"(min {profile.min_init_ms:,.1f} ms), {_basis(profile)}",
        "",
        f"slowest imports (top {TOP}, cumulative):",
        f"  {'cumulative':>12} {'share':>6} {'self':>10}  module (distribution)",
    ]
    for node in profile.modules()[:TOP]:
        lines.append(
            f"  {node.cumulative_ms:>9,.1f} ms {profile.share(node.cumulative_ms):>5.1f}% "
            f"{node.self_ms:>7,.1f} ms  {node.module} {_owner(node.distribution)}"
        )
    lines += ["", "by distribution (own time of its modules):"]
    for row in profile.distributions():
        lines.append(
            f"  {row.self_ms:>9,.1f} ms {profile.share(row.self_ms):>5.1f}%  {row.name} ({row.modules} modules)"
        )
    lines += ["", "import chains of the slowest imports:"]
    for node in _heaviest(profile, CHAINS):
        lines.append(f"  {node.cumulative_ms:>9,.1f} ms  {node.module}: {' -> '.join(profile.chains[node.module])}")
    lines.append("")
    if profile.deferrable is None:
        lines.append("lazy imports: " + _no_events())
    elif not profile.deferrable:
        lines.append(
            f"lazy imports: every import at init is used by an invocation on {', '.join(profile.events)}: "
            "nothing to defer."
        )
    else:
        total = sum(d.cumulative_ms for d in profile.deferrable)
        lines.append(
            f"lazy imports: {len(profile.deferrable)} import(s) at init that no invocation on "
            f"{', '.join(profile.events)} used ({total:,.1f} ms, {profile.share(total):.1f}% of init); move each into "
            "the code that needs it:"
        )
        direct = [item for item in profile.deferrable if item.direct]
        pulled = [item for item in profile.deferrable if not item.direct]
        for title, items in (("imported by the app itself", direct), ("pulled in by dependencies", pulled)):
            if items:
                lines.append(f"  {title}:")
            for item in items[:TOP_DEFERRABLE]:
                lines.append(
                    f"  {item.cumulative_ms:>9,.1f} ms  {item.module} {_owner(item.distribution)}: {_chain(item)}"
                )
            if len(items) > TOP_DEFERRABLE:
                lines.append(f"  ... and {len(items) - TOP_DEFERRABLE} more (--format json lists them all)")
    return "\n".join(lines) + "\n"


def _heaviest(profile: ImportProfile, count: int) -> list[ImportNode]:
    """The slowest modules other than the handler's own: what it imports, or they import, with their chains."""
    roots = {root.module for root in profile.roots}
    return [node for node in profile.modules() if node.module not in roots and node.module in profile.chains][:count]


def _owner(distribution: str) -> str:
    return distribution if distribution.startswith("(") else f"({distribution})"


def _node_data(node: ImportNode) -> dict[str, Any]:
    return {
        "module": node.module,
        "distribution": node.distribution,
        "self_ms": round(node.self_ms, 3),
        "cumulative_ms": round(node.cumulative_ms, 3),
        "min_cumulative_ms": round(node.min_cumulative_ms, 3),
        "children": [_node_data(child) for child in node.children],
    }


def to_data(profile: ImportProfile) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "handler": profile.handler,
        "runs": profile.runs,
        "basis": _basis(profile),
        "init_ms": round(profile.init_ms, 3),
        "min_init_ms": round(profile.min_init_ms, 3),
        "distributions": [
            {"name": row.name, "self_ms": round(row.self_ms, 3), "modules": row.modules}
            for row in profile.distributions()
        ],
        "tree": [_node_data(root) for root in profile.roots],
        "chains": {module: list(chain) for module, chain in profile.chains.items()},
        "events": list(profile.events),
        "deferrable": None
        if profile.deferrable is None
        else [
            {
                "module": item.module,
                "distribution": item.distribution,
                "cumulative_ms": round(item.cumulative_ms, 3),
                "chain": list(item.chain),
                "direct": item.direct,
            }
            for item in profile.deferrable
        ],
        "deferrable_note": _no_events() if profile.deferrable is None else None,
    }


def to_json(profile: ImportProfile) -> str:
    return json.dumps(to_data(profile), indent=2) + "\n"


def to_markdown(profile: ImportProfile) -> str:
    lines = [
        f"## Import profile of `{profile.handler}`",
        "",
        f"Init {profile.init_ms:,.1f} ms (min {profile.min_init_ms:,.1f} ms): {_basis(profile)}.",
        "",
        "| Module | Distribution | Cumulative | Share | Self |",
        "|---|---|---:|---:|---:|",
    ]
    for node in profile.modules()[:TOP]:
        lines.append(
            f"| `{node.module}` | {node.distribution} | {node.cumulative_ms:,.1f} ms | "
            f"{profile.share(node.cumulative_ms):.1f}% | {node.self_ms:,.1f} ms |"
        )
    lines += ["", "| Distribution | Own time | Share | Modules |", "|---|---:|---:|---:|"]
    for row in profile.distributions():
        lines.append(f"| {row.name} | {row.self_ms:,.1f} ms | {profile.share(row.self_ms):.1f}% | {row.modules} |")
    lines += ["", "### Import chains of the slowest imports", ""]
    for node in _heaviest(profile, CHAINS):
        chain = " → ".join(f"`{step}`" for step in profile.chains[node.module])
        lines.append(f"- {node.cumulative_ms:,.1f} ms `{node.module}`: {chain}")
    lines += ["", "### Lazy imports", ""]
    if profile.deferrable is None:
        lines.append(_no_events()[0].upper() + _no_events()[1:])
    elif not profile.deferrable:
        lines.append(f"Every import at init is used by an invocation on {', '.join(profile.events)}.")
    else:
        lines.append(f"Imports at init that no invocation on {', '.join(profile.events)} used:")
        lines.append("")
        for item in profile.deferrable:
            chain = " → ".join(f"`{step}`" for step in item.chain)
            lines.append(f"- {item.cumulative_ms:,.1f} ms `{item.module}` {_owner(item.distribution)}: {chain}")
    return "\n".join(lines) + "\n"


def to_html(profile: ImportProfile) -> str:
    """One file, no network: the JSON report inside the page, the collapsible tree drawn by a small inline script."""
    payload = json.dumps(to_data(profile)).replace("<", "\\u003c")  # nothing in the data can close the script
    template = resources.files("lambda_slim._report").joinpath("importprofile.html").read_text(encoding="utf-8")
    return template.replace("{{TITLE}}", html.escape(profile.handler)).replace("{{DATA}}", payload)
