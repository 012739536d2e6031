"""Parsing PostgREST's query-string language: `select=`, column filters, `or=`, `order=`, limit/offset.

Only the subset the HogFlix frontend uses (every `.from(...)` chain in `source/src`) plus its obvious
neighbours is accepted; anything else raises an `ApiError` naming the construct, so a query this
backend cannot answer fails loudly instead of returning wrong or empty data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from demo.hogflix.errors import ApiError

OPERATORS = ("eq", "neq", "gt", "gte", "lt", "lte", "like", "ilike", "in", "is")


@dataclass(frozen=True)
class Field:
    name: str
    alias: str | None = None

    @property
    def key(self) -> str:
        return self.alias or self.name


@dataclass(frozen=True)
class Star:
    pass


@dataclass(frozen=True)
class Embed:
    relation: str
    items: tuple[SelectItem, ...]
    hint: str | None = None
    inner: bool = False
    alias: str | None = None

    @property
    def key(self) -> str:
        return self.alias or self.relation


SelectItem = Field | Star | Embed


@dataclass(frozen=True)
class Condition:
    column: str
    op: str
    value: str | tuple[str, ...]  # a tuple for `in`
    negate: bool = False


@dataclass(frozen=True)
class Logic:
    op: Literal["and", "or"]
    terms: tuple[Condition | Logic, ...]
    negate: bool = False


@dataclass(frozen=True)
class Order:
    column: str
    desc: bool = False
    nulls_first: bool | None = None  # None: PostgreSQL's default (NULLS LAST ascending, FIRST descending)


@dataclass
class ReadQuery:
    select: tuple[SelectItem, ...] = (Star(),)
    filters: list[Condition | Logic] = field(default_factory=list)
    order: list[Order] = field(default_factory=list)
    limit: int | None = None
    offset: int = 0


def _bad(message: str, code: str = "PGRST100") -> ApiError:
    return ApiError(400, code, message)


def split_top(text: str, sep: str = ",") -> list[str]:
    """Split on `sep` outside parentheses and double quotes."""
    parts: list[str] = []
    depth = 0
    quoted = False
    current: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and quoted and i + 1 < len(text):
            current.append(text[i : i + 2])
            i += 2
            continue
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch == "(":
            depth += 1
        elif not quoted and ch == ")":
            depth -= 1
            if depth < 0:
                raise _bad(f"unbalanced ')' in {text!r}")
        if ch == sep and depth == 0 and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
        i += 1
    if depth != 0 or quoted:
        raise _bad(f"unbalanced parentheses or quotes in {text!r}")
    parts.append("".join(current))
    return parts


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return value


# --- select ----------------------------------------------------------------------------------------------


def parse_select(text: str) -> tuple[SelectItem, ...]:
    text = "".join(text.split())  # postgrest-js strips whitespace too (outside quotes, which we refuse)
    if not text:
        return (Star(),)
    return tuple(_select_item(item) for item in split_top(text))


def _select_item(item: str) -> SelectItem:
    if not item:
        raise _bad("empty item in select")
    if item.startswith("..."):
        raise _bad(f"spread embeds ('{item}') are not supported by the local backend")
    if item == "*":
        return Star()
    if "(" in item:
        if not item.endswith(")"):
            raise _bad(f"malformed embedded resource in select: {item!r}")
        head, _, inner = item.partition("(")
        alias, relation = _alias(head)
        name, *mods = relation.split("!")
        hint: str | None = None
        join_inner = False
        for mod in mods:
            if mod == "inner":
                join_inner = True
            elif mod == "left":
                join_inner = False
            elif hint is None and mod:
                hint = mod
            else:
                raise _bad(f"unsupported embed modifier '!{mod}' in {item!r}")
        if not name.isidentifier():
            raise _bad(f"unsupported select item {item!r} (aggregates and functions are not supported)")
        return Embed(name, parse_select(inner[:-1]), hint, join_inner, alias)
    alias, name = _alias(item)
    for token in ("::", "->", "!"):
        if token in name:
            raise _bad(f"unsupported select item {item!r} ('{token}' is not supported by the local backend)")
    if not name.isidentifier():
        raise _bad(f"unsupported select item {item!r}")
    return Field(name, alias)


def _alias(text: str) -> tuple[str | None, str]:
    # "alias:column" — but a cast "col::type" is not an alias.
    if ":" in text and "::" not in text:
        alias, _, rest = text.partition(":")
        if not alias.isidentifier():
            raise _bad(f"invalid alias in {text!r}")
        return alias, rest
    return None, text


# --- filters ------------------------------------------------------------------------------------------


def parse_filter(column: str, expr: str) -> Condition:
    """`column=op.value` (or `not.op.value`) from the query string."""
    if "." in column or "->" in column:
        raise _bad(f"filter on '{column}': filters on embedded resources or JSON paths are not supported")
    return _condition(column, expr, f"{column}={expr}")


def _condition(column: str, expr: str, context: str) -> Condition:
    negate = False
    if expr.startswith("not."):
        negate, expr = True, expr[4:]
    op, dot, value = expr.partition(".")
    if not dot:
        raise _bad(f"filter '{context}' has no operator (expected column=op.value)")
    if op not in OPERATORS:
        raise _bad(
            f"unsupported operator '{op}' in filter '{context}' (the local backend supports: "
            f"{', '.join(OPERATORS)}, not, or, and)"
        )
    if op == "in":
        if not (value.startswith("(") and value.endswith(")")):
            raise _bad(f"filter '{context}': in. needs a parenthesised list")
        inner = value[1:-1]
        items = tuple(_unquote(v) for v in split_top(inner)) if inner else ()
        return Condition(column, op, items, negate)
    if op == "is" and value.lower() not in ("null", "true", "false", "unknown"):
        raise _bad(f"filter '{context}': is. accepts null, true, false or unknown")
    return Condition(column, op, _unquote(value), negate)


def parse_logic(op: Literal["and", "or"], expr: str, negate: bool = False) -> Logic:
    """`or=(a.eq.1,b.gt.2)`, nesting `and(...)`/`or(...)` and `not.` as PostgREST does."""
    if not (expr.startswith("(") and expr.endswith(")")):
        raise _bad(f"{op}= needs a parenthesised list of conditions, got {expr!r}")
    terms: list[Condition | Logic] = []
    for term in split_top(expr[1:-1]):
        neg = False
        if term.startswith("not."):
            neg, term = True, term[4:]
        if term.startswith(("and(", "or(")):
            name: Literal["and", "or"] = "and" if term.startswith("and(") else "or"
            terms.append(parse_logic(name, term[len(name) :], neg))
            continue
        column, dot, rest = term.partition(".")
        if not dot or not column.isidentifier():
            raise _bad(f"malformed condition {term!r} in {op}=")
        cond = _condition(column, rest, term)
        terms.append(Condition(cond.column, cond.op, cond.value, cond.negate != neg))
    if not terms:
        raise _bad(f"{op}= has no conditions")
    return Logic(op, tuple(terms), negate)


def parse_order(text: str) -> list[Order]:
    orders: list[Order] = []
    for term in split_top(text):
        if "(" in term or "->" in term:
            raise _bad(f"ordering by embedded resources or JSON paths is not supported: {term!r}")
        column, *mods = term.split(".")
        desc = False
        nulls: bool | None = None
        for mod in mods:
            if mod in ("asc", "desc"):
                desc = mod == "desc"
            elif mod in ("nullsfirst", "nullslast"):
                nulls = mod == "nullsfirst"
            else:
                raise _bad(f"unsupported order modifier '{mod}' in {term!r}")
        if not column.isidentifier():
            raise _bad(f"invalid order column in {term!r}")
        orders.append(Order(column, desc, nulls))
    return orders


def parse_read(params: list[tuple[str, str]], *, allow_paging: bool = True) -> ReadQuery:
    query = ReadQuery()
    for key, value in params:
        if key == "select":
            query.select = parse_select(value)
        elif key == "order":
            query.order.extend(parse_order(value))
        elif key in ("limit", "offset"):
            if not allow_paging:
                raise _bad(f"{key} is not supported on writes by the local backend")
            try:
                number = int(value)
            except ValueError:
                raise _bad(f"{key}={value!r} is not an integer") from None
            if number < 0:
                raise _bad(f"{key} must not be negative")
            if key == "limit":
                query.limit = number
            else:
                query.offset = number
        elif key in ("or", "and"):
            query.filters.append(parse_logic("or" if key == "or" else "and", value))
        elif key in ("not.or", "not.and"):
            query.filters.append(parse_logic("or" if key == "not.or" else "and", value, negate=True))
        elif key in ("on_conflict", "columns"):
            continue  # write options, read by rest.py
        elif "." in key:
            raise _bad(
                f"parameter '{key}': options and filters on embedded resources are not supported by the "
                "local backend"
            )
        else:
            query.filters.append(parse_filter(key, value))
    if not allow_paging and query.order:
        raise _bad("order is not supported on writes by the local backend")
    return query


def parse_prefer(header: str) -> dict[str, str]:
    prefs: dict[str, str] = {}
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key:
            prefs[key.strip()] = value.strip()
    return prefs
