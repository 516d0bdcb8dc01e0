"""Name -> thing maps that the config refers to by name: groups, sources, pair recipes, model kinds."""

from __future__ import annotations


class Registry(dict):
    def __init__(self, what: str):
        super().__init__()
        self.what = what  # e.g. "group", for messages

    def add(self, name: str, item):
        if name in self:
            raise ValueError(f"a {self.what} named {name!r} is already registered")
        self[name] = item
        return item

    def lookup(self, name: str):
        """The item registered as ``name``; an unknown name is an error that lists the known ones."""
        try:
            return self[name]
        except KeyError:
            raise ValueError(f"unknown {self.what} {name!r}; known {self.what}s: {sorted(self)}") from None
