"""The mutants of one source file: small changes to its syntax tree, one at a time.

Each mutant is the whole file with one node's text replaced, so everything else (comments,
layout, line numbers up to the change) stays as written. The operators:

- comparisons: a boundary moved (`<` ↔ `<=`, `>` ↔ `>=`) or the comparison negated
  (`==` ↔ `!=`, `is` ↔ `is not`, `in` ↔ `not in`, `<` → `>=` …);
- `and` ↔ `or`; `not x` → `x`; the condition of an `if`, `while`, conditional expression,
  comprehension filter or `assert` negated;
- arithmetic (`+` ↔ `-`, `*` ↔ `/`, `//` → `*`, `**` → `*`, in assignments too), `min` ↔ `max`;
- constants: a number plus one, `True` ↔ `False`, a name-like string (a state, a key, a
  target) changed; in SQL text each condition made always true (`state = ?` →
  `(state = ? OR 1)`, which keeps the parameters), a comparison's boundary moved,
  `+ 1` → `+ 0`, a quoted word changed and `ORDER BY` reversed;
- statements dropped (calls, `raise`, `continue`, `break`, a bare `return`, an augmented
  assignment, an assignment to an attribute, an item or a name already bound), `await x` → `x`,
  `return x` → `return None`.

Docstrings, annotations, decorators, imports, `__all__` and f-strings are left alone.
"""

from __future__ import annotations

import ast
import copy
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

_SQL = re.compile(r"\b(SELECT|UPDATE|INSERT|DELETE)\b|\bWHERE\b|^\s*AND\b|^\s*ORDER BY\b")
_SQL_CONDITION = re.compile(r"(?:(?<=WHERE )|(?<=AND ))([\w.]+ (?:=|!=|<>|<=|>=|<|>|IS) \?)")
_SQL_BOUNDARY = re.compile(r"(?<= )(<=|>=|<|>)(?= )")
_SQL_WORD = re.compile(r"'([a-z_]+)'")
_SQL_ORDER = re.compile(r"ORDER BY ([\w.]+)(?! DESC)")
_NAME_LIKE = re.compile(r"^[A-Za-z_][\w.:-]{0,40}$")

_FLIPS: dict[type[ast.cmpop], tuple[type[ast.cmpop], ...]] = {
    ast.Lt: (ast.LtE, ast.GtE),
    ast.LtE: (ast.Lt, ast.Gt),
    ast.Gt: (ast.GtE, ast.LtE),
    ast.GtE: (ast.Gt, ast.Lt),
    ast.Eq: (ast.NotEq,),
    ast.NotEq: (ast.Eq,),
    ast.Is: (ast.IsNot,),
    ast.IsNot: (ast.Is,),
    ast.In: (ast.NotIn,),
    ast.NotIn: (ast.In,),
}
_ARITHMETIC: dict[type[ast.operator], type[ast.operator]] = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Div,
    ast.Div: ast.Mult,
    ast.FloorDiv: ast.Mult,
    ast.Pow: ast.Mult,
}


@dataclass
class Mutant:
    """One change to one file."""

    path: str  # relative to the repository root
    function: str  # qualified name of the enclosing function ("" at module level)
    line: int
    mutation: str  # what changed, as "`old` → `new`"
    original: str  # the source line, stripped
    source: str  # the whole mutated file
    lines: tuple[int, ...]  # the lines the change sits on
    fallback_lines: tuple[int, ...] = ()  # a default's function body: where it is used
    statement: int = 0  # the first line of the statement it sits in (what coverage records)
    uses: tuple[str, ...] = ()  # a module constant: the names to look for in every module
    tests: list[str] = field(default_factory=list)


def _short(text: str, limit: int = 70) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _Source:
    """The file as bytes, because the syntax tree counts columns in UTF-8 bytes."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.data = text.encode("utf-8")
        self.starts = [0]
        for index, byte in enumerate(self.data):
            if byte == 0x0A:
                self.starts.append(index + 1)
        self.lines = text.splitlines()

    def offset(self, line: int, col: int) -> int:
        return self.starts[line - 1] + col

    def segment(self, node: ast.AST) -> str:
        start, end = self.span(node)
        return self.data[start:end].decode("utf-8")

    def span(self, node: ast.AST) -> tuple[int, int]:
        return (
            self.offset(node.lineno, node.col_offset),  # type: ignore[attr-defined]
            self.offset(node.end_lineno, node.end_col_offset),  # type: ignore[attr-defined]
        )

    def replace(self, node: ast.AST, text: str) -> str:
        start, end = self.span(node)
        return (self.data[:start] + text.encode("utf-8") + self.data[end:]).decode("utf-8")


def _docstring_nodes(tree: ast.AST) -> set[int]:
    found: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body:
            first = body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first))
        # Attribute docstrings: a string statement right after an assignment.
        if isinstance(body, list):
            for statement in body:
                if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant):
                    found.add(id(statement))
    return found


def _unparse(node: ast.AST) -> str:
    return ast.unparse(ast.fix_missing_locations(node))


class _Walker:
    def __init__(self, source: _Source, path: str, functions: Sequence[str]) -> None:
        self.source = source
        self.path = path
        self.functions = tuple(functions)
        self.mutants: list[Mutant] = []
        self.skip: set[int] = set()
        self.tree = ast.parse(source.text)
        self.skip |= _docstring_nodes(self.tree)
        self.statement = 0

    # -- scope

    def _in_scope(self, qualname: str) -> bool:
        if not self.functions:
            return True
        if not qualname:
            return False
        return any(qualname == name or qualname.startswith(name + ".") for name in self.functions)

    def run(self) -> list[Mutant]:
        self._body(self.tree.body, prefix="", function="", bound=set(), fallback=())
        return self.mutants

    def _body(
        self,
        statements: Sequence[ast.stmt],
        *,
        prefix: str,
        function: str,
        bound: set[str],
        fallback: tuple[int, ...],
    ) -> None:
        for statement in statements:
            self._statement(
                statement, prefix=prefix, function=function, bound=bound, fallback=fallback
            )

    def _statement(
        self,
        node: ast.stmt,
        *,
        prefix: str,
        function: str,
        bound: set[str],
        fallback: tuple[int, ...],
    ) -> None:
        if isinstance(node, ast.Import | ast.ImportFrom) or id(node) in self.skip:
            return
        self.statement = node.lineno
        if isinstance(node, ast.ClassDef):
            self._body(
                node.body,
                prefix=f"{prefix}{node.name}.",
                function=function,
                bound=set(),
                fallback=(),
            )
            return
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            qualname = f"{prefix}{node.name}"
            body_lines = tuple(range(node.body[0].lineno, (node.end_lineno or node.lineno) + 1))
            if self._in_scope(qualname):
                for default in [*node.args.defaults, *node.args.kw_defaults]:
                    if default is not None:
                        self._expression(default, function=qualname, fallback=body_lines)
            params = {a.arg for a in ast.walk(node.args) if isinstance(a, ast.arg)}
            self._body(
                node.body,
                prefix=f"{qualname}.",
                function=qualname,
                bound=params,
                fallback=(),
            )
            return
        in_scope = self._in_scope(function)
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            return
        if not function:
            # Module and class level: only the constants, found again where they are used.
            if in_scope and isinstance(node, ast.Assign | ast.AnnAssign) and node.value:
                names = tuple(t.id for t in _targets(node) if isinstance(t, ast.Name))
                if "__all__" in names:
                    return  # the names a package exports: mypy and the imports check them
                start = len(self.mutants)
                self._constants(node.value, function="", fallback=())
                for mutant in self.mutants[start:]:
                    mutant.uses = names
            return
        if in_scope:
            self._statement_mutants(node, function=function, bound=bound)
        # Children: expressions first, then nested bodies.
        for name, value in ast.iter_fields(node):
            if name in ("body", "orelse", "finalbody", "handlers", "cases"):
                continue
            if name in ("annotation", "returns", "type_comment", "decorator_list"):
                continue
            if isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign) and name == "target":
                continue
            if isinstance(node, ast.Assign) and name == "targets":
                continue
            if isinstance(node, ast.For | ast.AsyncFor) and name == "target":
                continue
            for child in value if isinstance(value, list) else [value]:
                if isinstance(child, ast.expr) and in_scope:
                    self._expression(child, function=function, fallback=fallback)
                elif isinstance(child, ast.withitem) and in_scope:
                    self._expression(child.context_expr, function=function, fallback=fallback)
        for name in ("body", "orelse", "finalbody"):
            children = getattr(node, name, None)
            if isinstance(children, list):
                self._body(children, prefix="", function=function, bound=bound, fallback=fallback)
        for handler in getattr(node, "handlers", []) or []:
            self._body(handler.body, prefix="", function=function, bound=bound, fallback=fallback)
        for case in getattr(node, "cases", []) or []:
            self._body(case.body, prefix="", function=function, bound=bound, fallback=fallback)
        for target in _targets(node):
            if isinstance(target, ast.Name):
                bound.add(target.id)

    # -- statements

    def _statement_mutants(self, node: ast.stmt, *, function: str, bound: set[str]) -> None:
        drop = (
            (isinstance(node, ast.Expr) and not isinstance(node.value, ast.Constant))
            or isinstance(node, ast.Raise | ast.Continue | ast.Break | ast.AugAssign)
            or (isinstance(node, ast.Return) and node.value is None)
        )
        if isinstance(node, ast.Assign):
            targets = node.targets
            drop = all(
                isinstance(t, ast.Attribute | ast.Subscript)
                or (isinstance(t, ast.Name) and t.id in bound)
                for t in targets
            )
        if drop:
            self._add(node, "pass", function, f"drop `{_short(self.source.segment(node))}`")
        if (
            isinstance(node, ast.AugAssign)
            and type(node.op) in _ARITHMETIC
            and not _is_text(node.value)
        ):
            changed = copy.copy(node)
            changed.op = _ARITHMETIC[type(node.op)]()
            self._add(node, _unparse(changed), function)
        returned = node.value if isinstance(node, ast.Return) else None
        if returned is not None and not (
            isinstance(returned, ast.Constant) and returned.value is None
        ):
            self._add(node, "return None", function)
        if isinstance(node, ast.If | ast.While | ast.Assert):
            self._negate(node.test, function)

    def _negate(self, test: ast.expr, function: str, fallback: tuple[int, ...] = ()) -> None:
        if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            return  # removing the `not` says the same
        if isinstance(test, ast.Compare) and len(test.ops) == 1:
            return  # the comparison's own negation says the same
        text = f"(not ({self.source.segment(test)}))"
        self._add(test, text, function, f"negate `{_short(self.source.segment(test))}`", fallback)

    # -- expressions

    def _constants(self, node: ast.AST, *, function: str, fallback: tuple[int, ...]) -> None:
        if isinstance(node, ast.JoinedStr):
            return
        if isinstance(node, ast.Constant):
            self._constant(node, function, fallback)
        for child in ast.iter_child_nodes(node):
            self._constants(child, function=function, fallback=fallback)

    def _expression(self, node: ast.expr, *, function: str, fallback: tuple[int, ...]) -> None:
        if isinstance(node, ast.JoinedStr):
            return
        if isinstance(node, ast.Lambda):
            self._expression(node.body, function=function, fallback=fallback)
            return
        self._expression_mutants(node, function, fallback)
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.expr):
                self._expression(child, function=function, fallback=fallback)
            elif isinstance(child, ast.comprehension):
                self._expression(child.iter, function=function, fallback=fallback)
                for condition in child.ifs:
                    self._negate(condition, function, fallback)
                    self._expression(condition, function=function, fallback=fallback)
            elif isinstance(child, ast.keyword):
                self._expression(child.value, function=function, fallback=fallback)

    def _expression_mutants(self, node: ast.expr, function: str, fallback: tuple[int, ...]) -> None:
        if isinstance(node, ast.Compare):
            for index, op in enumerate(node.ops):
                for replacement in _FLIPS.get(type(op), ()):
                    compared = copy.deepcopy(node)
                    compared.ops[index] = replacement()
                    self._add(node, f"({_unparse(compared)})", function, fallback=fallback)
        elif isinstance(node, ast.BoolOp):
            boolean = copy.deepcopy(node)
            boolean.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
            self._add(node, f"({_unparse(boolean)})", function, fallback=fallback)
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            text = f"({self.source.segment(node.operand)})"
            self._add(node, text, function, fallback=fallback)
        elif isinstance(node, ast.IfExp):
            self._negate(node.test, function, fallback)
        elif isinstance(node, ast.BinOp) and type(node.op) in _ARITHMETIC:
            if not (_is_text(node.left) or _is_text(node.right)):
                arithmetic = copy.deepcopy(node)
                arithmetic.op = _ARITHMETIC[type(node.op)]()
                self._add(node, f"({_unparse(arithmetic)})", function, fallback=fallback)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            swap = {"min": "max", "max": "min"}.get(node.func.id)
            if swap:
                call = copy.deepcopy(node)
                call.func = ast.Name(swap, ast.Load())
                self._add(node, f"({_unparse(call)})", function, fallback=fallback)
        elif isinstance(node, ast.Await):
            text = f"({self.source.segment(node.value)})"
            self._add(node, text, function, fallback=fallback)
        elif isinstance(node, ast.Constant):
            self._constant(node, function, fallback)

    def _constant(self, node: ast.Constant, function: str, fallback: tuple[int, ...]) -> None:
        value = node.value
        if isinstance(value, bool):
            self._add(node, repr(not value), function, fallback=fallback)
        elif isinstance(value, int | float):
            self._add(node, repr(value + 1), function, fallback=fallback)
        elif isinstance(value, str) and id(node) not in self.skip:
            if _SQL.search(value):
                for changed, what in _sql_mutations(value):
                    self._add(node, repr(changed), function, f"SQL {what}", fallback)
            elif _NAME_LIKE.match(value):
                self._add(node, repr(f"XX{value}XX"), function, fallback=fallback)

    # -- recording

    def _add(
        self,
        node: ast.AST,
        text: str,
        function: str,
        mutation: str | None = None,
        fallback: tuple[int, ...] = (),
    ) -> None:
        first = node.lineno  # type: ignore[attr-defined]
        last = node.end_lineno or first  # type: ignore[attr-defined]
        old = self.source.segment(node)
        if mutation is None:
            mutation = f"`{_short(old)}` → `{_short(text.removeprefix('(').removesuffix(')'))}`"
        source = self.source.replace(node, text)
        try:
            compile(source, self.path, "exec")
        except SyntaxError:
            return  # a change this file cannot hold (never expected; kept honest)
        self.mutants.append(
            Mutant(
                path=self.path,
                function=function,
                line=first,
                mutation=mutation,
                original=self.source.lines[first - 1].strip(),
                source=source,
                lines=tuple(range(first, last + 1)),
                fallback_lines=tuple(sorted(set(fallback))),
                statement=self.statement,
            )
        )


def _targets(node: ast.stmt) -> Iterator[ast.expr]:
    if isinstance(node, ast.Assign):
        yield from node.targets
    elif isinstance(node, ast.AnnAssign | ast.AugAssign):
        yield node.target


def _is_text(node: ast.expr) -> bool:
    return isinstance(node, ast.JoinedStr) or (
        isinstance(node, ast.Constant) and isinstance(node.value, str)
    )


def _is_type_checking(test: ast.expr) -> bool:
    return isinstance(test, ast.Name) and test.id == "TYPE_CHECKING"


def _sql_mutations(sql: str) -> Iterator[tuple[str, str]]:
    """Each condition made always true, each boundary moved, each quoted word and order
    changed: one change at a time, every `?` kept so the parameters still bind."""
    for match in _SQL_CONDITION.finditer(sql):
        condition = match.group(1)
        changed = f"({condition} OR 1)"
        yield sql[: match.start()] + changed + sql[match.end() :], f"`{condition}` → `{changed}`"
    for match in _SQL_BOUNDARY.finditer(sql):
        old = match.group(1)
        new = {"<=": "<", "<": "<=", ">=": ">", ">": ">="}[old]
        yield sql[: match.start()] + new + sql[match.end() :], f"`{old}` → `{new}`"
    for match in re.finditer(r" \+ 1\b", sql):
        yield sql[: match.start()] + " + 0" + sql[match.end() :], "`+ 1` → `+ 0`"
    for match in _SQL_WORD.finditer(sql):
        word = match.group(1)
        new = f"'XX{word}XX'"
        yield sql[: match.start()] + new + sql[match.end() :], f"`'{word}'` → `{new}`"
    for match in _SQL_ORDER.finditer(sql):
        new = f"ORDER BY {match.group(1)} DESC"
        yield sql[: match.start()] + new + sql[match.end() :], f"`{match.group(0)}` → `{new}`"


def mutants_of(path: str, text: str, functions: Sequence[str] = ()) -> list[Mutant]:
    """Every mutant of the file at `path` (relative) with contents `text`; with `functions`,
    only those inside the functions and methods named (`Store.publish`, `_insert_delivery`)."""
    return _Walker(_Source(text), path, functions).run()


def name_uses(text: str) -> dict[str, list[int]]:
    """Lines of a module that read each name (`NAME`, `module.NAME`, `obj.NAME`)."""
    uses: dict[str, list[int]] = {}
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            uses.setdefault(node.id, []).append(node.lineno)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):
            uses.setdefault(node.attr, []).append(node.lineno)
    return uses
