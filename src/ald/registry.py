"""Name -> thing maps that the config refers to by name: groups, sources, pair recipes, model kinds; and the
defaults their parameter schemas state."""

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


def fill_defaults(value, schema: dict):
    """Every default of ``schema`` filled into ``value`` (in place), at every depth."""
    import copy  # here, not at the top: the command line imports the table and figure registries at start-up

    if not isinstance(value, dict):
        return value
    props, extra = schema.get("properties", {}), schema.get("additionalProperties")
    for key, sub in props.items():
        if key not in value and "default" in sub:
            value[key] = copy.deepcopy(sub["default"])
    for key, item in value.items():
        fill_defaults(item, props.get(key, extra if isinstance(extra, dict) else {}))
    return value
