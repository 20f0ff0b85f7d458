"""`pip install .` gives a service that starts (issue 9 item 10): every package of it is shipped, and it runs on its
main dependencies alone — none of what only the tests install (``greenlet`` came with Playwright)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
NOT_SHIPPED = {"tests", "bench", "build"}


def _name(dist: str) -> str:
    return re.sub(r"[-_.]+", "-", dist).lower()


def _closure(requirements: list[str]) -> set[str]:
    """The distributions ``pip install .`` brings: the main dependencies and theirs, markers evaluated here."""
    seen: set[str] = set()
    todo = [Requirement(r) for r in requirements]
    while todo:
        req = todo.pop()
        name = _name(req.name)
        if req.marker is not None and not req.marker.evaluate({"extra": ""}):
            continue
        key = name + "[" + ",".join(sorted(req.extras)) + "]"
        if key in seen:
            continue
        seen.add(key)
        for sub in metadata.requires(req.name) or []:
            r = Requirement(sub)
            extras = req.extras or {""}
            if r.marker is None or any(r.marker.evaluate({"extra": e}) for e in extras):
                r.marker = None
                todo.append(r)
    return {k.split("[", 1)[0] for k in seen}


def test_every_package_of_the_service_is_shipped() -> None:
    listed = set(PYPROJECT["tool"]["setuptools"]["packages"])
    found = {
        ".".join(init.parent.relative_to(REPO).parts)
        for init in REPO.glob("*/**/__init__.py")
        if init.parent.relative_to(REPO).parts[0] not in NOT_SHIPPED
        and not any(part.startswith(".") or part.endswith(".egg-info") for part in init.parts)
    }
    assert found - listed == set(), "packages missing from [tool.setuptools] packages"


def test_every_data_file_of_the_service_is_shipped() -> None:
    """Templates and static files live in folders without ``__init__.py``: each folder is listed as a package and
    its files match that package's ``package-data`` (a new folder of pages was once left out of ``pip install .``)."""
    listed = set(PYPROJECT["tool"]["setuptools"]["packages"])
    data = PYPROJECT["tool"]["setuptools"]["package-data"]
    missing = []
    for folder in ("api/templates", "api/static"):
        for path in (REPO / folder).rglob("*"):
            if not path.is_file() or path.suffix in (".py", ".pyc"):
                continue
            package = ".".join(path.parent.relative_to(REPO).parts)
            if package not in listed or not any(path.match(pattern) for pattern in data.get(package, [])):
                missing.append(str(path.relative_to(REPO)))
    assert missing == [], "data files pip install . would leave out"


# Run in a fresh interpreter: a module whose distribution is not among the service's dependencies cannot be imported.
_SERVICE = r"""
import asyncio, importlib, importlib.abc, importlib.metadata, json, pkgutil, re, sys, tempfile
allowed = set(json.loads(sys.argv[1]))
owners = importlib.metadata.packages_distributions()

class OnlyDependencies(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        dists = owners.get(name.partition(".")[0])
        if dists and not any(re.sub(r"[-_.]+", "-", d).lower() in allowed for d in dists):
            raise ModuleNotFoundError(f"{name}: from {dists}, not a dependency of the service", name=name)
        return None

sys.meta_path.insert(0, OnlyDependencies())
sys.path.insert(0, sys.argv[2])
for top in ("core", "domain", "contracts", "db", "workflows", "activities", "api"):
    package = importlib.import_module(top)
    for info in pkgutil.walk_packages(package.__path__, top + "."):
        importlib.import_module(info.name)
import worker

from sqlalchemy import text
from api.app import create_app
from core.settings import Settings
from db.engine import make_engine
from db.migrate import upgrade

url = "sqlite+aiosqlite:///" + tempfile.mkdtemp() + "/yg.db"
upgrade(url)

async def query():
    engine = make_engine(url)
    async with engine.connect() as c:
        assert await c.scalar(text("SELECT count(*) FROM cases")) == 0
    await engine.dispose()

asyncio.run(query())
create_app(Settings(environment="test", database_url=url))
print("service ok")
"""


def test_the_service_imports_migrates_and_queries_on_its_main_dependencies_alone() -> None:
    allowed = _closure(PYPROJECT["project"]["dependencies"]) | {"yangguang"}
    done = subprocess.run(
        [sys.executable, "-c", _SERVICE, json.dumps(sorted(allowed)), str(REPO)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0 and "service ok" in done.stdout, done.stderr[-3000:]
