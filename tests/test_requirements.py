"""`make run` installs requirements.txt only; the test suite runs with requirements-dev.txt on top. A module the
project imports that only a dev tool brings along (webhooks' `requests` came with schemathesis and Playwright)
passes every test and breaks `make run` and production. So: every third-party module the apps import must come
from requirements.txt, directly or as a dependency of what it pins."""

import ast
import sys
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
APPS = ["teams", "notifications", "goals", "rewards", "feedback", "api", "webhooks", "config"]


def _imported_top_level_modules() -> dict[str, str]:
    """{top-level module: a file that imports it} over the apps' code (migrations and all)."""
    found: dict[str, str] = {}
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    found.setdefault(name.split(".")[0], str(path.relative_to(ROOT)))
    return found


def _pinned_closure() -> set[str]:
    """The distributions requirements.txt installs: what it pins, and what those need (with the extras it asks for)."""
    todo = []
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            todo.append(Requirement(line))
    seen: set[str] = set()
    while todo:
        requirement = todo.pop()
        name = requirement.name.lower().replace("_", "-")
        if name in seen:
            continue
        seen.add(name)
        for text in metadata.requires(requirement.name) or []:
            needed = Requirement(text)
            extras = requirement.extras or {""}
            if needed.marker is None or any(needed.marker.evaluate({"extra": extra}) for extra in extras):
                todo.append(needed)
    return seen


def test_every_module_the_apps_import_is_installed_by_requirements_txt():
    project = set(APPS) | {"tests"}
    distributions = metadata.packages_distributions()
    closure = _pinned_closure()
    missing = {}
    for module, where in _imported_top_level_modules().items():
        if module in sys.stdlib_module_names or module in project:
            continue
        names = {d.lower().replace("_", "-") for d in distributions.get(module, [module])}
        if not names & closure:
            missing[module] = where
    assert not missing, f"imported by the apps but not installed by requirements.txt: {missing}"
