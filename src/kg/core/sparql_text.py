"""Reading SPARQL query text before it runs: the checks that keep a query from crashing a process or
reaching the network, and the rewriting that pushes a row limit into the query.

The lexer follows the terminals of SPARQL 1.1 Query (W3C Recommendation 2013-03-21), section 19.8:
IRIREF, the four string forms, comments and PN_LOCAL_ESC escapes, so that a keyword inside a string, an
IRI or a comment is not taken for one, and none can hide from the checks. It does not parse: it only needs
to find tokens outside strings, IRIs and comments, their bracket depth, and the top-level clauses.
"""

from __future__ import annotations

import itertools
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import NamedTuple, TypeVar

from kg.core.errors import QueryError

MAX_QUERY_CHARS = 100_000
MAX_DEPTH = 64
MAX_TOKENS = 20_000
STACK_BYTES = 512 * 1024 * 1024  # a deep (but allowed) query needs more than the default 8 MB stack

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<comment>\#[^\n\r]*)
  | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
  | (?P<string>'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"
              |'(?:[^'\\\n\r]|\\.)*'|"(?:[^"\\\n\r]|\\.)*")
  | (?P<word>(?:[^\s{}()\[\],;<>"'\#\\=!&|+*/^@]+|\\.|@[A-Za-z])+)
  | (?P<punct>.)
    """,
    re.VERBOSE | re.DOTALL,
)
_OPEN, _CLOSE = "{([", "})]"
VARIABLE = re.compile(r"[?$](\w+)")  # a variable (section 19.8: VAR1, VAR2), its name


class Token(NamedTuple):
    """One token (a tuple: made once per token of every query, so it must be cheap)."""

    kind: str  # iri, string, word or punct
    text: str
    start: int
    depth: int  # brackets open before this token


def tokens(text: str) -> list[Token]:
    """The tokens of a query outside whitespace and comments, with their bracket depth."""
    out: list[Token] = []
    append, depth = out.append, 0
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup
        if kind == "space" or kind == "comment":
            continue
        value = match.group()
        if kind == "punct":
            if value in _CLOSE:
                depth -= 1
            elif value in _OPEN:
                append(Token(kind, value, match.start(), depth))
                depth += 1
                continue
        append(Token(kind, value, match.start(), depth))
    return out


def declared_prefixes(toks: list[Token], defaults: Mapping[str, str]) -> dict[str, str]:
    """``defaults`` with the query's PREFIX declarations (prefix -> namespace IRI) over them."""
    found = dict(defaults)
    for i, t in enumerate(toks[:-2]):
        if t.kind == "word" and t.text.upper() == "PREFIX" and toks[i + 2].kind == "iri":
            found[toks[i + 1].text.rstrip(":")] = toks[i + 2].text[1:-1]
    return found


def prefixes_used(toks: list[Token]) -> set[str]:
    """The prefixes of the prefixed names among ``toks`` (section 4.1.1.1), PREFIX declarations aside."""
    used = set()
    for before, tok in zip([None, *toks], toks, strict=False):
        declaration = before is not None and before.kind == "word" and before.text.upper() == "PREFIX"
        if tok.kind != "word" or VARIABLE.match(tok.text) or declaration:
            continue
        found = re.match(r"([A-Za-z][\w.-]*|):", tok.text)
        if found:
            used.add(found.group(1))
    return used


def services(toks: list[Token], defaults: Mapping[str, str]) -> list[str | None]:
    """The endpoint of each SERVICE in the query (None where it is a variable or cannot be known)."""
    prefixes = declared_prefixes(toks, defaults)
    out: list[str | None] = []
    for i, t in enumerate(toks):
        if t.kind != "word" or t.text.upper() != "SERVICE":
            continue
        rest = toks[i + 1 : i + 3]
        if rest and rest[0].kind == "word" and rest[0].text.upper() == "SILENT":
            rest = rest[1:]
        target = rest[0] if rest else None
        if target is not None and target.kind == "iri":
            out.append(target.text[1:-1])
        elif target is not None and target.kind == "word" and ":" in target.text:
            prefix, _, local = target.text.partition(":")
            out.append(prefixes[prefix] + local if prefix in prefixes and "\\" not in local else None)
        else:
            out.append(None)
    return out


def check(
    text: str,
    *,
    allow_service: Iterable[str] = (),
    prefixes: Mapping[str, str] | None = None,
    max_chars: int = MAX_QUERY_CHARS,
    max_depth: int = MAX_DEPTH,
    max_tokens: int = MAX_TOKENS,
) -> list[Token]:
    """Raise QueryError if the query is too long (characters or tokens), nested too deep, or calls a
    SERVICE not allowed. Each nested or chained element costs the engine stack and time: 10,000 nested
    groups or 3,000 chained BINDs crash Oxigraph 0.5 on an 8 MB stack.

    SERVICE (SPARQL 1.1 Federated Query) makes the engine send HTTP requests: refused unless its
    endpoint IRI starts with one of ``allow_service``. Returns the tokens.
    """
    if len(text) > max_chars:
        raise QueryError(f"query too long: {len(text)} characters (at most {max_chars})")
    toks = tokens(text)
    deepest = max((t.depth for t in toks), default=0)
    if deepest >= max_depth:
        raise QueryError(f"query nested too deep: {deepest} levels of brackets (at most {max_depth - 1})")
    if len(toks) > max_tokens:
        raise QueryError(f"query too long: {len(toks)} tokens (at most {max_tokens})")
    allowed = tuple(allow_service)
    for endpoint in services(toks, prefixes or {}):
        if endpoint is None or not allowed or not endpoint.startswith(allowed):
            what = f"<{endpoint}>" if endpoint else "a variable or unknown endpoint"
            hint = f"allowed: {', '.join(allowed)}" if allowed else "federated queries are off"
            raise QueryError(f"SERVICE {what} refused ({hint})")
    return toks


_FORMS = ("SELECT", "CONSTRUCT", "DESCRIBE", "ASK")


def prologue(text: str) -> tuple[str, str | None]:
    """The prologue (BASE and PREFIX declarations, with comments) and the query form after it.

    The form is SELECT, CONSTRUCT, DESCRIBE or ASK, else None. The prologue is tokens, not lines
    (SPARQL 1.1 Query, section 19.5, rules [4]-[6]): ``PREFIX mi: <...> SELECT`` may share a line, and one
    declaration may span several. Lexes only as far as the first word after the prologue.
    """
    owed = 0  # tokens still owed to a PREFIX (name, IRI) or BASE (IRI) declaration
    for match in _TOKEN.finditer(text):
        kind, value = match.lastgroup, match.group()
        if kind == "space" or kind == "comment":
            continue
        if owed:
            owed -= 1
        elif kind == "word" and value.upper() in ("PREFIX", "BASE"):
            owed = 2 if value.upper() == "PREFIX" else 1
        else:
            form = value.upper() if kind == "word" and value.upper() in _FORMS else None
            return text[: match.start()], form
    return text, None


def query_form(text: str) -> str | None:
    """The query form that follows the prologue (see :func:`prologue`), else None."""
    return prologue(text)[1]


def form(toks: list[Token]) -> str:
    """SELECT, CONSTRUCT, DESCRIBE or ASK: the query form (section 16)."""
    for t in toks:
        if t.kind == "word" and t.depth == 0 and t.text.upper() in _FORMS:
            return t.text.upper()
    return "SELECT"


def with_limit(text: str, toks: list[Token], limit: int) -> str:
    """The query with its top-level LIMIT at most ``limit`` (section 15.5), so the engine stops early.

    A top-level LIMIT larger than ``limit`` is lowered; without one, ``LIMIT limit`` is added before the
    trailing VALUES clause or at the end. ASK queries are returned unchanged.
    """
    if form(toks) == "ASK":
        return text
    top = [t for t in toks if t.depth == 0]
    for i, t in enumerate(top[:-1]):
        if t.kind == "word" and t.text.upper() == "LIMIT" and top[i + 1].text.isdigit():
            number = top[i + 1]
            if int(number.text) <= limit:
                return text
            return text[: number.start] + str(limit) + text[number.start + len(number.text) :]
    values = next((t for t in top if t.kind == "word" and t.text.upper() == "VALUES"), None)
    at = values.start if values is not None else len(text)
    return f"{text[:at]}\nLIMIT {limit}\n{text[at:]}"


T = TypeVar("T")


_big = threading.local()


def big_stack() -> bool:
    """Whether this thread is one that :func:`on_big_stack` started."""
    return getattr(_big, "stack", False)


def on_big_stack(work: Callable[[], T]) -> T:
    """Run ``work`` in a thread with a large stack: the query engine recurses once per nested element.
    On such a thread already (a query worker runs each request on one), ``work`` runs right there."""
    if big_stack():
        return work()
    result: list = []

    def run() -> None:
        _big.stack = True
        try:
            result.append((True, work()))
        except BaseException as err:  # handed to the caller's thread
            result.append((False, err))

    previous = threading.stack_size(STACK_BYTES)
    try:
        thread = threading.Thread(target=run, name="kg-query")
        thread.start()
    finally:
        threading.stack_size(previous)
    thread.join()
    ok, value = result[0]
    if not ok:
        raise value
    return value


def has_dataset(toks: list[Token]) -> bool:
    """Whether the query names its own dataset with FROM or FROM NAMED (section 13.2)."""
    return any(t.kind == "word" and t.depth == 0 and t.text.upper() == "FROM" for t in toks)


def assigned_variables(toks: list[Token]) -> set[str]:
    """The variables a query gives values of its own: ``AS ?v`` (BIND, SELECT expressions; sections
    10.1 and 18.2.4.1) and the variables of VALUES blocks (section 10.2). Every other variable of a
    solution is bound by matching the graph, so its terms are terms of the graph."""
    found: set[str] = set()
    for i, t in enumerate(toks):
        word = t.text.upper() if t.kind == "word" else ""
        if word == "AS" and i + 1 < len(toks):
            found |= {m.group(1) for m in VARIABLE.finditer(toks[i + 1].text) if toks[i + 1].kind == "word"}
        elif word == "VALUES":
            for u in toks[i + 1 :]:
                if u.kind == "punct" and u.text == "{":
                    break
                if u.kind == "word":
                    found |= {m.group(1) for m in VARIABLE.finditer(u.text)}
    return found


def template_constants(toks: list[Token]) -> bool:
    """Whether a CONSTRUCT template (section 16.2) writes a literal of its own (a string, number or
    boolean), or its variables include one the query assigns: a triple it makes may then hold a
    literal that is not a term of the graph."""
    start = next(
        (
            i
            for i, t in enumerate(toks)
            if t.kind == "word" and t.depth == 0 and t.text.upper() == "CONSTRUCT"
        ),
        None,
    )
    if start is None or start + 1 >= len(toks) or toks[start + 1].text != "{":
        return False  # CONSTRUCT WHERE: the template is the pattern, matched against the graph
    assigned = assigned_variables(toks)
    for t in toks[start + 2 :]:
        if t.kind == "punct" and t.text == "}" and t.depth == 0:
            return False
        if t.kind == "string" or (t.kind == "word" and re.match(r"[+-]?\.?\d", t.text)):
            return True
        if t.kind == "word" and t.text.lower() in ("true", "false"):
            return True
        if t.kind == "word" and any(m.group(1) in assigned for m in VARIABLE.finditer(t.text)):
            return True
    return False


def zero_length_paths(toks: list[Token]) -> bool:
    """Whether a query may use a ``*`` or ``?`` property path (section 9.1): those also match a
    term the query itself writes (zero steps), so a solution may hold a term not in the graph.
    Conservative: any ``*`` after an IRI, a name or ``)`` counts, and any word with ``?`` inside."""
    for before, t in itertools.pairwise(toks):
        name = (
            before.kind == "word"
            and not VARIABLE.match(before.text)
            and before.text.upper() not in _STAR_AFTER
        )
        if t.kind == "punct" and t.text == "*" and (before.kind == "iri" or before.text == ")" or name):
            return True
    return any(t.kind == "word" and (t.text == "?" or "?" in t.text[1:]) for t in toks)


_STAR_AFTER = {"SELECT", "DISTINCT", "REDUCED"}
# --- readable errors and term checks -------------------------------------------------------------

_ENGINE_ERROR = re.compile(r"error at (\d+):(\d+):\s*(.*)", re.DOTALL)
_PN_PREFIX = re.compile(r"[A-Za-z\u00C0-\uFFFD]([\w.\-\u00B7]*[\w\-\u00B7])?|")  # section 19.8, [168s]


def position(text: str, offset: int) -> tuple[int, int]:
    """Line and column (both from 1, column in characters) of a character offset."""
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def pointer(text: str, line: int, column: int) -> str:
    """The line of ``text`` shown with a caret under ``column`` (two lines, each indented)."""
    lines = text.splitlines() or [""]
    shown = lines[min(line, len(lines)) - 1].expandtabs(1)
    return f"\n  {shown}\n  {' ' * max(column - 1, 0)}^"


def prefixed_names(toks: list[Token]) -> list[Token]:
    """The prefixed names (``mi:Initiative``, ``kt:``) among the tokens, declarations left out."""
    out = []
    for i, t in enumerate(toks):
        if t.kind != "word" or ":" not in t.text or t.text[0] in "?$_0123456789.-":
            continue
        if i and toks[i - 1].kind == "word" and toks[i - 1].text.upper() == "PREFIX":
            continue
        if _PN_PREFIX.fullmatch(t.text.partition(":")[0]):
            out.append(t)
    return out


def undeclared(toks: list[Token], known: Mapping[str, str]) -> list[Token]:
    """Prefixed names whose prefix neither the query nor ``known`` declares."""
    found = declared_prefixes(toks, known)
    return [t for t in prefixed_names(toks) if t.text.partition(":")[0] not in found]


def unbalanced(toks: list[Token]) -> tuple[Token, str] | None:
    """The first bracket that closes nothing or the wrong thing, or the first one never closed."""
    stack: list[Token] = []
    for t in toks:
        if t.kind != "punct":
            continue
        if t.text in _OPEN:
            stack.append(t)
        elif t.text in _CLOSE:
            if not stack:
                return t, f"'{t.text}' closes nothing"
            opened = stack.pop()
            if _OPEN.index(opened.text) != _CLOSE.index(t.text):
                return t, f"'{t.text}' does not close the '{opened.text}' opened before it"
    if stack:
        return stack[
            -1
        ], f"'{stack[-1].text}' is never closed (a '{_CLOSE[_OPEN.index(stack[-1].text)]}' is missing)"
    return None


def iris(toks: list[Token], known: Mapping[str, str]) -> list[tuple[Token, str]]:
    """Every absolute IRI the query names (IRIREF and expanded prefixed names), with its token."""
    prefixes = declared_prefixes(toks, known)
    out = []
    for i, t in enumerate(toks):
        if t.kind == "iri" and ":" in t.text:
            before = [x.text.upper() for x in toks[max(i - 2, 0) : i] if x.kind == "word"]
            if not (before[-1:] == ["BASE"] or (len(before) == 2 and before[0] == "PREFIX")):
                out.append((t, t.text[1:-1]))
    for t in prefixed_names(toks):
        prefix, _, local = t.text.partition(":")
        if prefix in prefixes and "\\" not in local:
            out.append((t, prefixes[prefix] + local))
    return out


def explain(text: str, engine_message: str, known: Mapping[str, str]) -> str:
    """A syntax error as a reader wants it: what is wrong, where (line and column), that line and a
    caret under the place. Unknown prefixes are named with the known ones; unbalanced brackets are
    found by the lexer; otherwise the engine's message is kept, without its character classes."""
    try:
        toks = tokens(text)
    except RecursionError:  # pragma: no cover - the lexer is iterative; kept for safety
        toks = []
    missing = undeclared(toks, known)
    if missing:
        t = missing[0]
        line, col = position(text, t.start)
        prefix = t.text.partition(":")[0]
        names = ", ".join(sorted(declared_prefixes(toks, known)))
        return (
            f"line {line}, column {col}: unknown prefix '{prefix}:' in {t.text} "
            f"(declare it with PREFIX {prefix}: <...>, or use one kg knows: {names})"
            f"{pointer(text, line, col)}"
        )
    start = _first_word(toks)
    if start is not None and start.text.upper() not in ("SELECT", "CONSTRUCT", "DESCRIBE", "ASK"):
        line, col = position(text, start.start)
        return (
            f"line {line}, column {col}: a query starts with SELECT, CONSTRUCT, ASK or DESCRIBE "
            f"(after PREFIX and BASE), not {start.text}{pointer(text, line, col)}"
        )
    wrong = unbalanced(toks)
    if wrong is not None:
        t, what = wrong
        line, col = position(text, t.start)
        return f"line {line}, column {col}: {what}{pointer(text, line, col)}"
    found = _ENGINE_ERROR.match(engine_message)
    if not found:
        return " ".join(engine_message.split())
    line, byte_col = int(found.group(1)), int(found.group(2))
    lines = text.split("\n")
    if line > len(lines) or (line == len(lines) and not lines[-1].encode()[byte_col - 1 :].strip()):
        # the engine reached the end of the text: point just after the last thing written
        end = len(text.rstrip())
        line, col = position(text, end)
        return (
            f"line {line}, column {col}: the query ends too early; {_expected(found.group(3))}"
            f"{pointer(text, line, col)}"
        )
    raw = lines[line - 1].encode("utf-8")
    col = len(raw[: byte_col - 1].decode("utf-8", "ignore")) + 1  # the engine counts bytes
    offset = sum(len(x) + 1 for x in text.split("\n")[: line - 1]) + col - 1
    at = next((t for t in toks if t.start == offset), None)
    what = f"unexpected {at.text!r}; " if at is not None and len(at.text) <= 40 else ""
    return f"line {line}, column {col}: {what}{_expected(found.group(3))}{pointer(text, line, col)}"


def _first_word(toks: list[Token]) -> Token | None:
    """The first token after the PREFIX and BASE declarations (the query form, if well formed)."""
    i = 0
    while i < len(toks) and toks[i].kind == "word" and toks[i].text.upper() in ("PREFIX", "BASE"):
        i += 3 if toks[i].text.upper() == "PREFIX" else 2
    return toks[i] if i < len(toks) and toks[i].kind == "word" else None


def _expected(message: str) -> str:
    """The engine's "expected one of ..." without character classes (``['A' ..= 'Z' | ...]``)."""
    message = " ".join(message.split())
    head, sep, rest = message.partition("expected one of ")
    if not sep:
        head, sep, rest = message.partition("expected ")
    if not sep:
        return message
    items = [i.strip() for i in re.split(r",\s*(?![^\[]*\])", rest) if i.strip()]
    words = [i for i in items if not i.startswith("[")]
    if not words:
        return head + "unexpected text here"
    shown = ", ".join(words[:12]) + (", ..." if len(words) > 12 else "")
    return f"{head}expected {'one of ' if len(words) > 1 else ''}{shown}"
