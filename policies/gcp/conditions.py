"""What an IAM Conditions (CEL) expression on a GCP binding allows, read offline.

Pure: no pulumi, no pulumi_policy. :func:`may_hold` evaluates an expression against one
:class:`Target` (a Secret Manager secret, a service account or a project/folder/organisation)
in three-valued logic: ``True`` (holds for every request on it), ``False`` (holds for none) or
``None`` (cannot tell). A grant reaches a target unless its condition is ``False`` there, so what
the evaluator does not understand never narrows a grant.

What it understands (Google's documented attributes, https://cloud.google.com/iam/docs/conditions-attribute-reference):

* ``&&``, ``||``, ``!``, parentheses, ``true`` / ``false``;
* ``resource.name`` with ``==``, ``!=``, ``startsWith``, ``endsWith``: compared on the part from
  ``secrets/`` on (Secret Manager names a secret's project by number there; a version's name
  ``.../secrets/<id>/versions/<n>`` is a request on that secret). A name naming a secret never
  matches a service account or a project, and the reverse;
* ``resource.type`` (``secretmanager.googleapis.com/Secret`` / ``SecretVersion``,
  ``iam.googleapis.com/ServiceAccount``, ``cloudresourcemanager.googleapis.com/Project``...) and
  ``resource.service`` with ``==`` / ``!=``;
* ``request.time`` compared with ``timestamp("...")``: a window that has closed holds for no
  request any more; one still open, or not open yet, may hold.

* tags (``resource.matchTag``, ``matchTagId``, ``hasTagKey``, ``hasTagKeyId``): attribute-based
  access. An arbitrary secret (:data:`ANY_SECRET`) does not carry a given tag, so a tag condition
  narrows a grant away from "every secret" as a name prefix does; whether one secret, a service
  account or a project carries it (tags are inherited from projects, folders and the
  organisation) is not known offline: ``None``.

Anything else (``api.getAttribute``, ``request.time.getHours``, unknown functions, a syntax
error) is ``None``.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from typing import Final

SECRET_KIND: Final = "secret"  # pragma: allowlist secret (a kind name)
SERVICE_ACCOUNT_KIND: Final = "service account"
CONTAINER_KIND: Final = "container"

#: The resource types a request on each kind of target carries.
_TYPES: Final = {
    SECRET_KIND: frozenset(
        {"secretmanager.googleapis.com/Secret", "secretmanager.googleapis.com/SecretVersion"}
    ),
    SERVICE_ACCOUNT_KIND: frozenset({"iam.googleapis.com/ServiceAccount"}),
    CONTAINER_KIND: frozenset(
        {
            "cloudresourcemanager.googleapis.com/Project",
            "cloudresourcemanager.googleapis.com/Folder",
            "cloudresourcemanager.googleapis.com/Organization",
        }
    ),
}
_SERVICES: Final = {
    SECRET_KIND: "secretmanager.googleapis.com",  # pragma: allowlist secret
    SERVICE_ACCOUNT_KIND: "iam.googleapis.com",
    CONTAINER_KIND: "cloudresourcemanager.googleapis.com",
}


@dataclass(frozen=True)
class Target:
    """What a request acts on. ``secret_id`` None with kind secret: a secret of unknown id (no
    literal name compares equal to it; a name condition then narrows the grant to some
    secrets)."""

    kind: str
    secret_id: str | None = None
    project: str | None = None


ANY_SECRET: Final = Target(SECRET_KIND)
ANY_SERVICE_ACCOUNT: Final = Target(SERVICE_ACCOUNT_KIND)
ANY_CONTAINER: Final = Target(CONTAINER_KIND)

Tri = bool | None

_TOKEN_RE = re.compile(
    r"""\s*(?:
      (?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
    | (?P<op>&&|\|\||==|!=|<=|>=|<|>|!|\(|\)|,|\.)
    | (?P<num>\d+(?:\.\d+)?)
    | (?P<id>[A-Za-z_][A-Za-z0-9_]*)
    )""",
    re.VERBOSE,
)


class _Syntax(Exception):
    pass


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN_RE.match(text, pos)
        if m is None or m.end() == pos:
            raise _Syntax(text[pos:])
        pos = m.end()
        kind = m.lastgroup or ""
        value = m.group(kind)
        if kind == "str":
            value = value[1:-1].encode().decode("unicode_escape")
        out.append((kind, value))
    return out


# A parsed term: ("path", "resource.name") | ("str", "...") | ("num", "3") | ("bool", "true")
# | ("call", "timestamp", args) | ("method", path, name, args) | ("unknown",)
Term = tuple[object, ...]


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]], target: Target, now: datetime.datetime):
        self.t = tokens
        self.i = 0
        self.target = target
        self.now = now

    def peek(self) -> tuple[str, str] | None:
        return self.t[self.i] if self.i < len(self.t) else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        tok = self.peek()
        if tok is None or (value is not None and tok[1] != value):
            raise _Syntax(f"expected {value}")
        self.i += 1
        return tok

    def at(self, value: str) -> bool:
        tok = self.peek()
        return tok is not None and tok[0] == "op" and tok[1] == value

    # expr := and ('||' and)* ; and := unary ('&&' unary)* ; unary := '!' unary | comparison
    def expr(self) -> Tri:
        values = [self.conj()]
        while self.at("||"):
            self.take()
            values.append(self.conj())
        return _or(values)

    def conj(self) -> Tri:
        values = [self.unary()]
        while self.at("&&"):
            self.take()
            values.append(self.unary())
        return _and(values)

    def unary(self) -> Tri:
        if self.at("!"):
            self.take()
            return _not(self.unary())
        return self.comparison()

    def comparison(self) -> Tri:
        if self.at("("):
            self.take()
            value = self.expr()
            self.take(")")
            return value
        left = self.term()
        tok = self.peek()
        if tok is not None and tok[0] == "op" and tok[1] in ("==", "!=", "<", "<=", ">", ">="):
            self.take()
            right = self.term()
            return _compare(left, tok[1], right, self.target, self.now)
        return _truth(left, self.target)

    def term(self) -> Term:
        kind, value = self.take()
        if kind in ("str", "num"):
            return (kind, value)
        if kind == "op" and value == "(":
            raise _Syntax("parenthesised term")  # (a == b) == c and the like: not understood
        if kind != "id":
            raise _Syntax(value)
        if value in ("true", "false"):
            return ("bool", value)
        path = [value]
        while self.at("."):
            self.take()
            path.append(self.take()[1])
        if self.at("("):
            args = self.args()
            if len(path) == 1:
                return ("call", path[0], args)
            return ("method", ".".join(path[:-1]), path[-1], args)
        return ("path", ".".join(path))

    def args(self) -> tuple[Term, ...]:
        self.take("(")
        out: list[Term] = []
        while not self.at(")"):
            out.append(self.term())
            if self.at(","):
                self.take()
        self.take(")")
        return tuple(out)


def _and(values: list[Tri]) -> Tri:
    if any(v is False for v in values):
        return False
    return True if all(v is True for v in values) else None


def _or(values: list[Tri]) -> Tri:
    if any(v is True for v in values):
        return True
    return False if all(v is False for v in values) else None


def _not(value: Tri) -> Tri:
    return None if value is None else not value


def _after_secrets(name: str) -> str | None:
    i = name.find("secrets/")
    return name[i + len("secrets/") :] if i >= 0 else None


def _project_of(name: str) -> str | None:
    m = re.match(r"^projects/([^/]+)/", name)
    return m.group(1) if m else None


def _same_project(literal: str, target: Target) -> bool:
    """The literal names the target's project by the same id (a number may stand for it)."""
    p = _project_of(literal)
    return p is not None and target.project is not None and p == target.project


def _name_equals(literal: str, target: Target) -> Tri:
    part = _after_secrets(literal)
    if target.kind != SECRET_KIND:
        return False if part is not None else None
    if part is None:
        return False if "/serviceAccounts/" in literal else None
    if target.secret_id is None or part.partition("/")[0] != target.secret_id:
        return False
    return None  # the secret itself or one of its versions: requests on it have other names too


def _name_starts(prefix: str, target: Target) -> Tri:
    part = _after_secrets(prefix)
    if target.kind != SECRET_KIND:
        return False if part is not None else None
    if part is None:
        return False if "/serviceAccounts/" in prefix else None
    if "/" in part:
        secret_id, _, _rest = part.partition("/")
        if target.secret_id is None or secret_id != target.secret_id:
            return False
        return None  # some of its names (some versions)
    if target.secret_id is None:
        return None if part == "" else False
    if not target.secret_id.startswith(part):
        return False
    return True if _same_project(prefix, target) else None


def _name_ends(suffix: str, target: Target) -> Tri:
    if target.kind != SECRET_KIND and "secrets/" in suffix:
        return False
    return None  # a version number, part of an id...: some requests may match


def _timestamp(term: Term) -> datetime.datetime | None:
    if len(term) == 3 and term[0] == "call" and term[1] == "timestamp":
        args = term[2]
        if isinstance(args, tuple) and len(args) == 1 and args[0][0] == "str":
            text = str(args[0][1]).replace("Z", "+00:00")
            try:
                stamp = datetime.datetime.fromisoformat(text)
            except ValueError:
                return None
            return stamp if stamp.tzinfo else stamp.replace(tzinfo=datetime.UTC)
    return None


_FLIP: Final = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}


def _compare(left: Term, op: str, right: Term, target: Target, now: datetime.datetime) -> Tri:
    if right == ("path", "request.time") or (right[0] == "path" and left[0] != "path"):
        left, right, op = right, left, _FLIP[op]
    if left == ("path", "request.time"):
        stamp = _timestamp(right)
        if stamp is None:
            return None
        if op in ("<", "<="):  # holds until stamp
            return False if stamp <= now else None
        if op in (">", ">="):  # holds from stamp on
            return True if stamp < now else None
        return None
    if op not in ("==", "!=") or right[0] != "str":
        return None
    literal = str(right[1])
    value: Tri
    if left == ("path", "resource.name"):
        value = _name_equals(literal, target)
    elif left == ("path", "resource.type"):
        types = _TYPES[target.kind]
        # a secret's requests carry Secret or SecretVersion, a container's one of three types
        value = (None if len(types) > 1 else True) if literal in types else False
    elif left == ("path", "resource.service"):
        value = literal == _SERVICES[target.kind]
    else:
        return None
    return value if op == "==" else _not(value)


#: Tag functions of ``resource`` (https://cloud.google.com/iam/docs/tags-access-control).
_TAG_FUNCTIONS: Final = frozenset({"matchTag", "matchTagId", "hasTagKey", "hasTagKeyId"})


def _truth(term: Term, target: Target) -> Tri:
    if term[0] == "bool":
        return term[1] == "true"
    if term[0] == "method" and term[1] == "resource" and len(term) == 4:
        if term[2] in _TAG_FUNCTIONS and target.kind == SECRET_KIND and target.secret_id is None:
            # attribute-based access: the grant reaches the secrets that carry (or inherit) the
            # tag, not an arbitrary one; whether a given secret does is not known offline
            return False
        return None
    if term[0] == "method" and term[1] == "resource.name" and len(term) == 4:
        args = term[3]
        if not (isinstance(args, tuple) and len(args) == 1 and args[0][0] == "str"):
            return None
        literal = str(args[0][1])
        if term[2] == "startsWith":
            return _name_starts(literal, target)
        if term[2] == "endsWith":
            return _name_ends(literal, target)
    return None


def may_hold(expression: str | None, target: Target, now: datetime.datetime | None = None) -> Tri:
    """Whether a binding with this condition applies to requests on ``target`` (module
    docstring). No condition: True."""
    if expression is None or not expression.strip():
        return True
    when = now or datetime.datetime.now(datetime.UTC)
    try:
        parser = _Parser(_tokens(expression), target, when)
        value = parser.expr()
        if parser.peek() is not None:
            return None
    except (_Syntax, IndexError, KeyError):
        return None
    return value


def reaches(expression: str | None, target: Target, now: datetime.datetime | None = None) -> bool:
    """A grant under this condition reaches ``target`` (unless the condition surely fails)."""
    return may_hold(expression, target, now) is not False
