"""Import hooks that adjust a module when user code first imports it
(asyncio's default loop, pyplot's backend and ``show``): a meta-path
finder for one module name that wraps the loader ``PathFinder`` finds, so
nothing is imported ahead of the user."""

import sys


def on_import(name, after, before=None):
    """When ``name`` is first imported, call ``before()`` ahead of its code
    (if given) and ``after(module)`` once its code has run. The finder goes
    first on ``sys.meta_path``."""
    sys.meta_path.insert(0, _Finder(name, before, after))


class _Finder:
    def __init__(self, name, before, after):
        self._name = name
        self._before = before
        self._after = after

    def find_spec(self, name, path=None, target=None):
        if name != self._name:
            return None
        from importlib.machinery import PathFinder

        spec = PathFinder.find_spec(name, path)
        if spec is not None and spec.loader is not None:
            spec.loader = _Loader(spec.loader, self._before, self._after)
        return spec


class _Loader:
    def __init__(self, inner, before, after):
        self._inner = inner
        self._before = before
        self._after = after

    def create_module(self, spec):
        return self._inner.create_module(spec)

    def exec_module(self, module):
        if self._before is not None:
            self._before()
        self._inner.exec_module(module)
        self._after(module)

    def __getattr__(self, name):
        return getattr(self._inner, name)
