"""Sphinx extension: each API entry's "Used in" list, generated from the chapters at build time.

At the start of a build it reads the pages ``book/<name>.md`` in table-of-contents order and
collects the gradlab objects each uses: names its code cells (parsed with :mod:`ast`) import
from gradlab, followed through attributes; classes those functions return, by annotation;
registry names (``hidden="relu"``, ``"mse"``, or a default a call leaves in place); and the
targets of ``{py:...}`` roles in the text. ``autodoc-process-docstring`` appends a "Used in"
rubric to each used object's and module's docstring, and a module table to the package's.
The scanned pages are dependencies of the API pages, so editing a chapter re-reads them.
"""

from __future__ import annotations

import ast
import functools
import importlib
import inspect
import pkgutil
import re
import sys
from pathlib import Path
from typing import Any

CODE_CELL = re.compile(r"^```\{code-cell\}[^\n]*\n(.*?)^```", re.S | re.M)
ROLE = re.compile(r"\{py:\w+\}`(?:[^`<]*<)?~?(gradlab[\w.]*)")
PAGE = re.compile(r"book/[^/]+")


def canonical(obj: Any) -> str:
    """Where autodoc documents a module, function or class: ``gradlab.mlp.forward``."""
    return obj.__name__ if inspect.ismodule(obj) else f"{obj.__module__}.{obj.__qualname__}"


@functools.lru_cache(maxsize=None)
def submodules() -> tuple[Any, ...]:
    """gradlab's public modules, imported (also those it does not import itself: gradlab.plotting)."""
    infos = pkgutil.iter_modules(importlib.import_module("gradlab").__path__, "gradlab.")
    return tuple(importlib.import_module(i.name) for i in infos if not i.name.split(".")[-1].startswith("_"))


def resolve(dotted: str) -> dict[str, Any]:
    """``{canonical name: object}`` of each gradlab object along a dotted path."""
    parts = dotted.split(".")
    if parts[0] != "gradlab":
        return {}
    submodules()  # imported, so that getattr(gradlab, "plotting") works
    obj, name, found = importlib.import_module("gradlab"), "gradlab", {}
    for part in parts[1:]:
        if not (inspect.ismodule(obj) or inspect.isclass(obj)) or not hasattr(obj, part):
            break
        obj = getattr(obj, part)
        named = inspect.ismodule(obj) or inspect.isfunction(obj) or inspect.isclass(obj)
        name = canonical(obj) if named else f"{name}.{part}"
        if not name.startswith("gradlab."):
            break  # something gradlab imports, e.g. mlp.np
        found[name] = obj
    return found


def registry_objects(key: str) -> dict[str, Any]:
    """What a registry name stands for: ``get(key)`` itself, its fields (``g``, ``dg``), or its
    class (``"adam"`` is an instance of :class:`gradlab.optim.Adam`)."""
    found = {}
    for mod in submodules():
        if key in getattr(mod, "NAMES", ()) and callable(getattr(mod, "get", None)):
            entry = mod.get(key)
            for obj in [entry, type(entry), *getattr(entry, "__dict__", {}).values()]:
                if (inspect.isfunction(obj) or inspect.isclass(obj)) and obj.__module__.startswith("gradlab."):
                    found[canonical(obj)] = obj
    return found


def annotated_classes(obj: Any) -> dict[str, Any]:
    """gradlab classes named by a function's return annotation or a class's field annotations."""
    notes = vars(obj).get("__annotations__", {}).values() if inspect.isclass(obj) else [obj.__annotations__.get("return")]
    space, found = vars(sys.modules[obj.__module__]), {}
    for note in notes:
        note = note if isinstance(note, str) else getattr(note, "__qualname__", str(note))
        for word in re.findall(r"[A-Za-z_][\w.]*", note):
            target = space.get(word.split(".")[0])
            for part in word.split(".")[1:]:
                target = getattr(target, part, None)
            if inspect.isclass(target) and target.__module__.startswith("gradlab."):
                found[canonical(target)] = target
    return found


def page_uses(text: str) -> set[str]:
    """Canonical names of the gradlab objects and modules that one page uses."""
    trees = []
    for body in CODE_CELL.findall(text):
        body = re.sub(r"\A(?:---\n.*?^---\n|(?::[^\n]*\n)+)", "", body, flags=re.S | re.M)  # cell options
        try:
            trees.append(ast.parse(re.sub(r"^(\s*)[%!].*$", r"\1pass", body, flags=re.M)))  # no IPython magics
        except SyntaxError:
            pass  # the build itself reports a cell that does not parse
    nodes = [node for tree in trees for node in ast.walk(tree)]
    bound: dict[str, str] = {}
    for node in nodes:
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] == "gradlab":
                    bound[a.asname or "gradlab"] = a.name if a.asname else "gradlab"
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] == "gradlab":
            for a in node.names:
                bound[a.asname or a.name] = f"{node.module}.{a.name}"

    def dotted(node: ast.AST) -> str:  # "gradlab.mlp.forward" for mlp.forward, "" for what gradlab did not bind
        if isinstance(node, ast.Attribute):
            return (base := dotted(node.value)) and f"{base}.{node.attr}"
        return bound.get(node.id, "") if isinstance(node, ast.Name) else ""

    used: dict[str, Any] = {}
    for path in bound.values():
        used.update(resolve(path))
    ignored = set()
    for node in nodes:
        if isinstance(node, (ast.Name, ast.Attribute)):
            used.update(resolve(dotted(node)))
        if not isinstance(node, ast.Call):
            continue
        callee = list(resolve(dotted(node.func)).values())[-1:]
        if not callee and isinstance(node.func, ast.Attribute):  # a method of something else
            ignored |= {id(arg) for arg in [*node.args, *(k.value for k in node.keywords)]}
        plain = not any(isinstance(a, ast.Starred) for a in node.args) and all(k.arg for k in node.keywords)
        if callee and (inspect.isfunction(callee[0]) or inspect.isclass(callee[0])) and plain:
            given = {k.arg for k in node.keywords}
            for p in list(inspect.signature(callee[0]).parameters.values())[len(node.args):]:
                if p.name not in given and isinstance(p.default, str):
                    used.update(registry_objects(p.default))
    for node in nodes:
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in ignored:
            used.update(registry_objects(node.value))
    for target in ROLE.findall(CODE_CELL.sub("", text)):
        used.update(resolve(target.rstrip(".")))
    todo = [obj for obj in used.values() if inspect.isfunction(obj) or inspect.isclass(obj)]
    while todo:
        for name, cls in annotated_classes(todo.pop()).items():
            if name not in used:
                used[name] = cls
                todo.append(cls)
    return set(used) | {obj.__module__ for obj in used.values() if inspect.isfunction(obj) or inspect.isclass(obj)}


def used_in(pages: dict[str, str]) -> dict[str, list[str]]:
    """``{canonical name: [docnames of the pages using it]}``, pages in the order given."""
    out: dict[str, list[str]] = {}
    for docname, text in pages.items():
        for name in page_uses(text):
            out.setdefault(name, []).append(docname)
    return out


def scan_book(app: Any) -> None:
    """Scan the book's pages (``book/<name>``, not the API reference) in table-of-contents order."""
    site_map, order = getattr(app.config, "external_site_map", None), []
    todo = [site_map.root.docname] if site_map is not None else []
    while todo:
        docname = todo.pop(0)
        if docname in site_map and docname not in order:
            order.append(docname)
            todo[:0] = [item for tree in site_map[docname].subtrees for item in tree.items if isinstance(item, str)]
    pages = [d for d in order if PAGE.fullmatch(d) and (Path(app.srcdir) / f"{d}.md").exists()]
    app.used_in_pages = {d: (Path(app.srcdir) / f"{d}.md").read_text(encoding="utf-8") for d in pages}
    app.used_in = used_in(app.used_in_pages)


def add_used_in(app: Any, what: str, name: str, obj: Any, options: Any, lines: list[str]) -> None:
    used = getattr(app, "used_in", {})
    for docname in getattr(app, "used_in_pages", {}):
        app.env.note_dependency(f"{docname}.md")  # relative to the source folder

    def links(pages: list[str], short: bool = False) -> str:  # short: "2" for book/ch2_notation
        numbers = [re.match(r"ch(\d+)_", d.split("/")[-1]) for d in pages]
        return ", ".join(f":doc:`{n[1]} </{d}>`" if short and n else f":doc:`/{d}`" for d, n in zip(pages, numbers))

    if name == "gradlab":  # the package page: its modules and the chapters that use each
        lines += ["", ".. list-table::", "   :header-rows: 1", "", "   * - module", "     - what", "     - chapters"]
        for mod in submodules():
            summary = " ".join((mod.__doc__ or "").strip().split("\n\n")[0].split())
            chapters = links(used.get(mod.__name__, []), short=True) or "–"
            lines += [f"   * - :mod:`{mod.__name__}`", f"     - {summary}", f"     - {chapters}"]
        lines.append("")
    elif used.get(name):
        lines += ["", ".. rubric:: Used in", "", links(used[name]), ""]


def setup(app: Any) -> dict[str, Any]:
    app.connect("builder-inited", scan_book)
    # after napoleon (priority 500), so the rubric is plain reST appended to its output
    app.connect("autodoc-process-docstring", add_used_in, priority=600)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
