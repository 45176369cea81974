"""The layers of DESIGN.md, read from the code with ``ast``.

Imports run one way: cap ← jp ← auth/store ← delivery ← hub ← api/web ← app ← commands.
``auth`` and ``store`` are siblings and neither imports the other; so are ``api`` and
``web``. ``hub/`` is the application layer: a route handler in ``api/`` or ``web/`` parses,
calls one hub operation and renders, so no write transaction (``store.write``,
``run_write``, ``.begin()``) and no audit append is written there.

``ALLOWED`` lists what the code does today against these rules, with a reason; it only
shrinks.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

SOURCE = Path(__file__).resolve().parents[1] / "src" / "alertcommons"

# The rank of each part: a module may import only parts of a strictly lower rank, or its own.
RANKS: dict[str, float] = {
    # shared leaves everyone may use
    "__init__": 0,
    "errors": 0,
    "problems": 0.5,
    "pools": 0.5,
    "logs": 0.5,  # the log's formats and its event helper: a leaf
    "speech": 1,  # text to WAV (Open JTalk, eSpeak NG): a leaf
    "cap": 1,
    "jp": 2,
    "geo": 2.5,  # areas as geometry: the outlines of what jp names
    "auth": 3,
    "store": 3,
    "delivery": 4,
    "settings": 4.5,  # reads the delivery policy and the store's defaults
    "hub": 5,
    "api": 6,
    "web": 6,
    "app": 7,  # the composition root: builds the services, mounts api/ and web/
    "commands": 8,
    "cli": 9,
    "__main__": 10,
}

WRITE_CALLS = frozenset({"write", "run_write", "begin"})
AUDIT_CALLS = frozenset({"append", "append_many"})
ADAPTERS = ("api", "web")

# (importing module, imported part) → why it is still there. Empty: keep it so.
ALLOWED: dict[tuple[str, str], str] = {}

# (module, what) → why it is still there; what is "write" or "audit"
ALLOWED_WRITES: dict[tuple[str, str], str] = {}


@dataclass(frozen=True)
class Found:
    module: str
    line: int
    what: str  # the imported part, or "write"/"audit"

    def __str__(self) -> str:
        return f"{self.module}:{self.line}: {self.what}"


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def part_of(module: str) -> str:
    """``alertcommons.hub.publish`` → ``hub``; ``alertcommons`` → ``__init__``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _imported(tree: ast.AST, module: str, is_package: bool) -> list[tuple[str, int]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                if not is_package:
                    base = base[:-1]
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            if target == "alertcommons":
                # ``from alertcommons import pools`` names modules, not the package
                found += [(f"alertcommons.{alias.name}", node.lineno) for alias in node.names]
            else:
                found.append((target, node.lineno))
        elif isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
    return [(name, line) for name, line in found if name.split(".")[0] == "alertcommons"]


def _writes(tree: ast.AST) -> list[tuple[str, int]]:
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        if node.func.attr in WRITE_CALLS:
            found.append(("write", node.lineno))
        target = node.func.value
        if node.func.attr in AUDIT_CALLS and isinstance(target, ast.Name) and target.id == "audit":
            found.append(("audit", node.lineno))
    return found


def check(root: Path) -> list[Found]:
    """Every import against the order and every write or audit append in an adapter."""
    problems: list[Found] = []
    for path in sorted(root.rglob("*.py")):
        module = _module_name(path, root)
        own = part_of(module)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for target, line in _imported(tree, module, path.name == "__init__.py"):
            other = part_of(target)
            if not (root / other).is_dir() and not (root / f"{other}.py").exists():
                other = "__init__"  # a name from the package itself: ``__version__``
            if other == own:
                continue
            if other not in RANKS or own not in RANKS or RANKS[other] >= RANKS[own]:
                problems.append(Found(module, line, other))
        if own in ADAPTERS:
            problems += [Found(module, line, what) for what, line in _writes(tree)]
    return problems


def _allowed(found: Found) -> bool:
    if found.what in ("write", "audit"):
        return (found.module, found.what) in ALLOWED_WRITES
    return (found.module, found.what) in ALLOWED


def test_imports_follow_the_layers() -> None:
    against = [str(found) for found in check(SOURCE) if not _allowed(found)]
    assert against == [], "imports against the layers, or writes in an adapter"


def test_the_allow_list_only_names_what_is_still_there() -> None:
    """A fixed entry must leave the list, so the list shrinks to nothing."""
    found = check(SOURCE)
    imports = {(f.module, f.what) for f in found if f.what not in ("write", "audit")}
    writes = {(f.module, f.what) for f in found if f.what in ("write", "audit")}
    assert sorted(set(ALLOWED) - imports) == []
    assert sorted(set(ALLOWED_WRITES) - writes) == []


def test_every_part_has_a_rank() -> None:
    parts = {part_of(_module_name(path, SOURCE)) for path in SOURCE.rglob("*.py")}
    assert sorted(parts - set(RANKS)) == []


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "alertcommons"
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def test_the_check_catches_an_upward_import_a_sibling_and_a_write(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "__init__.py": "",
            "cap/__init__.py": "",
            "store/__init__.py": "",
            "store/orgs.py": "from alertcommons.auth import tokens\n",
            "auth/__init__.py": "",
            "auth/tokens.py": "from alertcommons.cap import model\n",
            "delivery/__init__.py": "",
            "delivery/dispatcher.py": "from ..hub import records\n",
            "hub/__init__.py": "",
            "hub/records.py": "from alertcommons.store import orgs\n",
            "web/__init__.py": "",
            "web/public.py": "from alertcommons.api.keys import trusted\n",
            "api/__init__.py": "",
            "api/keys.py": (
                "from alertcommons.store import audit\n"
                "async def f(hub):\n"
                "    await hub.store.write(lambda c: audit.append(c, actor='a'))\n"
            ),
        },
    )
    assert [str(found) for found in check(root)] == [
        "alertcommons.api.keys:3: write",
        "alertcommons.api.keys:3: audit",
        "alertcommons.delivery.dispatcher:1: hub",
        "alertcommons.store.orgs:1: auth",
        "alertcommons.web.public:1: api",
    ]
