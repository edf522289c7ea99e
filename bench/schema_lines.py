"""Lines of hand-written JSON schema and route tables in `qingyuan/web/` (issue 12, Must show 6).

Not a benchmark but a measurement, kept here so that it can be rerun after every change:

    python -m bench.schema_lines            # a table per module and the totals

What counts, per Python module under `qingyuan/web/` (found with `ast`, so formatting choices
count as they are written):

- a *schema*: a top-level statement or a keyword argument whose value holds a dict literal
  with a `"type"`, `"properties"` or `"items"` key — JSON Schema written by hand;
- a *route table*: the top-level `routes = [...]` assignment (the statements' full line span).

A schema inside a route table counts once, as part of the table. Lines of pydantic models
(`<part>/schemas.py`) are reported separately: they are the one description that replaces
both, and say what the replacement costs.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "qingyuan"
SCHEMA_KEYS = {"type", "properties", "items"}


def _is_schema(node: ast.AST) -> bool:
    return any(
        isinstance(sub, ast.Dict)
        and any(isinstance(k, ast.Constant) and k.value in SCHEMA_KEYS for k in sub.keys)
        for sub in ast.walk(node)
    )


def _span(node: ast.AST) -> set[int]:
    return set(range(node.lineno, (node.end_lineno or node.lineno) + 1))  # type: ignore[attr-defined]


def measure(path: Path) -> tuple[int, int, int]:
    """(schema lines, route-table lines, all lines) of one module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    tables: set[int] = set()
    schemas: set[int] = set()
    for statement in tree.body:
        targets = getattr(statement, "targets", None) or [getattr(statement, "target", None)]
        if any(isinstance(t, ast.Name) and t.id == "routes" for t in targets):
            tables |= _span(statement)
        elif isinstance(statement, ast.Assign | ast.AnnAssign) and _is_schema(statement):
            schemas |= _span(statement)
    for node in ast.walk(tree):  # schema keyword arguments outside any table
        if isinstance(node, ast.keyword) and _is_schema(node.value):
            schemas |= _span(node.value) - tables
    lines = len(path.read_text(encoding="utf-8").splitlines())
    return len(schemas), len(tables), lines


def main() -> None:
    totals = [0, 0, 0]
    print(f"{'module':45} {'schema':>7} {'tables':>7} {'lines':>7}")
    for path in sorted((ROOT / "web").rglob("*.py")):
        figures = measure(path)
        totals = [a + b for a, b in zip(totals, figures, strict=True)]
        if figures[0] or figures[1]:
            print(
                f"{path.relative_to(ROOT.parent)!s:45} {figures[0]:7} {figures[1]:7} {figures[2]:7}"
            )
    schema, tables, lines = totals
    routes_lines = sum(
        len(p.read_text(encoding="utf-8").splitlines()) for p in (ROOT / "web/routes").glob("*.py")
    )
    print(
        f"web/ total: {schema} schema + {tables} route-table = {schema + tables} of {lines} lines"
    )
    print(f"(web/routes/ alone holds {routes_lines} lines)")
    models = sorted(ROOT.glob("*/schemas.py"))
    model_lines = sum(len(p.read_text(encoding="utf-8").splitlines()) for p in models)
    print(f"pydantic models (<part>/schemas.py, {len(models)} files): {model_lines} lines")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
