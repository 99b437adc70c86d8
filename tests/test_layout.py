"""The package's shape (docs/architecture.md): the core imports no service, the top of
`hookshot/` holds only entry points and wiring, and the tests mirror the package."""

from __future__ import annotations

import ast
from pathlib import Path

from support.paths import ROOT, TESTS

PACKAGE = ROOT / "hookshot"
# Entry points, the wiring (app, bridge), and the config, error and wire-name modules.
TOP_LEVEL = {
    "__init__.py",
    "__main__.py",
    "app.py",
    "bridge.py",
    "cli.py",
    "config.py",
    "errors.py",
    "runner.py",
    "wire.py",
}


def _imports(path: Path) -> list[tuple[int, str]]:
    """Every module a file imports, anywhere in it (also inside functions and TYPE_CHECKING)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return found


def test_core_imports_no_service() -> None:
    offences = [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for path in sorted((PACKAGE / "core").rglob("*.py"))
        for line, name in _imports(path)
        if name == "hookshot.services" or name.startswith("hookshot.services.")
    ]
    assert not offences, "\n".join(offences)


def test_the_check_sees_imports_inside_functions(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    from hookshot.services import github\n")
    assert (2, "hookshot.services.github") in _imports(sample)


def test_top_of_the_package_holds_only_entry_points_and_wiring() -> None:
    modules = {p.name for p in PACKAGE.glob("*.py")}
    assert modules == TOP_LEVEL, sorted(modules ^ TOP_LEVEL)


def test_tests_mirror_the_package() -> None:
    folders = {
        p.relative_to(TESTS)
        for p in TESTS.rglob("test_*.py")
        if p.parent != TESTS and "support" not in p.parts
    }
    missing = sorted(str(f) for f in {f.parent for f in folders} if not (PACKAGE / f).is_dir())
    assert not missing, f"test folders with no package of that name: {missing}"
