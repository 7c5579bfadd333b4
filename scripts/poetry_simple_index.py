"""Make Poetry read PyPI through the simple API only (test and lock-making environments only).

The network these machines sit behind answers PyPI's per-version JSON endpoint
(/pypi/<name>/<version>/json) with 404, while the simple API (PEP 691, with PEP 658
metadata files) works. Poetry's PyPiRepository uses that endpoint to resolve
(`_get_release_info`) and to install (`find_links_for_package`); Poetry's own
LegacyRepository implements both on the simple API. This module, loaded at interpreter
start (a .pth file or sitecustomize), gives PyPiRepository those two methods. The lock
files Poetry writes are unchanged in form: same package names, versions, file names and
hashes, no extra source. Generated Dockerfiles never use this.
"""

import importlib.abc
import importlib.util
import sys

_TARGET = "poetry.repositories.pypi_repository"


class _PatchPyPiRepository(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name != _TARGET:
            return None
        sys.meta_path.remove(self)
        try:
            spec = importlib.util.find_spec(name)
        finally:
            sys.meta_path.insert(0, self)
        if spec is None or spec.loader is None:
            return spec
        execute = spec.loader.exec_module

        def exec_module(module):
            execute(module)
            from poetry.repositories.legacy_repository import LegacyRepository

            module.PyPiRepository._get_release_info = LegacyRepository._get_release_info
            module.PyPiRepository.find_links_for_package = LegacyRepository.find_links_for_package

        spec.loader.exec_module = exec_module
        return spec


if not any(isinstance(finder, _PatchPyPiRepository) for finder in sys.meta_path):
    sys.meta_path.insert(0, _PatchPyPiRepository())
