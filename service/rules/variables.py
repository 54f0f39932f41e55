"""Every rule variable, declared once in ``VARIABLES``, and the facts and SQL columns it gives.

A row names a variable, its business-rules field type, the rule contexts that may use it,
where its value comes from and how it is read, and its label and options. From the table
come ``entity_facts`` (a product, location, position, ... record as rule facts),
``rule_columns`` (each variable as a column of the entity tables, for compiled SQL) and,
in ``service.rules.vocabulary``, the business-rules classes, ``VOCABULARY`` and
``VARIABLE_TYPES``. Adding a variable is adding a row.

This module knows no tables and no business-rules classes: callers pass their tables in.
The ledger's own rules (what a position has available) come from `service.domain`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from operator import attrgetter
from types import MappingProxyType
from typing import Any

from service.domain.ledger import available_units

CONTEXTS = ("channel", "sourcing", "returns")
LOCATION_TYPES = ["store", "dc", "3pl", "dropship"]
DELIVERY_METHODS = ["ship", "pickup"]
CONDITIONS = ["new", "opened", "damaged", "defective"]

# business-rules field types, by the name business-rules exports them under
STRING, NUMERIC, BOOLEAN, SELECT = "string", "numeric", "boolean", "select"


def as_text(value: Any) -> Any:
    """The value, or "" when it is None or empty."""
    return value or ""


def as_float(value: Any) -> float:
    """The value as a float, 0.0 when it is None."""
    return float(value or 0)


def as_bool(value: Any) -> bool:
    """The value as True or False (None is False): business-rules booleans must be bools."""
    return bool(value)


def as_list(value: Any) -> list[Any]:
    """The value as a new list, [] when it is None: business-rules selects are lists."""
    return list(value or [])


def position_available(position: Any) -> int:
    """A position's available units (the ledger's rule: on hand less allocated and reserved)."""
    return available_units(position.on_hand, position.allocated, position.reserved)


# Booleans and selects always need these readings; variables of the other types are read
# as they are unless their row names a reading.
_TYPE_READS: Mapping[str, Callable[[Any], Any]] = MappingProxyType(
    {BOOLEAN: as_bool, SELECT: as_list}
)


@dataclass(frozen=True)
class Variable:
    """One rule variable: its type, its contexts and where its value comes from.

    ``source`` is ``entity.attribute``, an attribute of a product, location, position,
    request, order or return_line record (``sql`` names its SQL column when that differs),
    or ``computed: how``, a value the caller works out. ``compute`` derives the value from
    the entity's whole record rather than one attribute; in SQL the caller then supplies the
    expression. ``read`` converts the raw value (default, type); booleans and selects are
    read with ``as_bool`` and ``as_list`` unless another reading is named.
    """

    name: str
    type: str
    contexts: str  # space-separated, each one of CONTEXTS
    source: str
    read: Callable[[Any], Any] | None = None
    sql: str | None = None
    label: str | None = None
    options: Iterable[str] = ()
    compute: Callable[[Any], Any] | None = None
    entity: str | None = field(init=False)
    attribute: str | None = field(init=False)

    def __post_init__(self) -> None:
        entity, dot, attribute = self.source.partition(".")
        from_caller = self.source.startswith("computed")
        if self.type not in (STRING, NUMERIC, BOOLEAN, SELECT):
            raise ValueError(f"{self.name}: unknown field type {self.type!r}")
        if not self.contexts.split() or not set(self.contexts.split()) <= set(CONTEXTS):
            raise ValueError(f"{self.name}: contexts must be among {CONTEXTS}")
        if not from_caller and not (dot and entity and attribute):
            raise ValueError(f"{self.name}: source must be 'entity.attribute' or 'computed'")
        object.__setattr__(self, "entity", None if from_caller else entity)
        object.__setattr__(self, "attribute", None if from_caller else attribute)
        object.__setattr__(self, "options", tuple(self.options))
        if self.read is None and self.type in _TYPE_READS:
            object.__setattr__(self, "read", _TYPE_READS[self.type])

    @property
    def computed(self) -> bool:
        """Not one attribute of a record: computed from the record, or by the caller."""
        return self.entity is None or self.compute is not None

    @property
    def column(self) -> str | None:
        """The column of the entity's table that holds the value (None when computed)."""
        return None if self.computed else self.sql or self.attribute

    def in_context(self, context: str) -> bool:
        return context in self.contexts.split()


V = Variable
# One row per variable: name, type, contexts, source, then reading, SQL column, label, options.
VARIABLES: tuple[Variable, ...] = (
    V("sku", STRING, "channel returns", "product.sku", label="SKU"),
    V("category", STRING, "channel returns", "product.category", as_text),
    V("brand", STRING, "channel returns", "product.brand", as_text),
    V("price", NUMERIC, "channel returns", "product.price", as_float),
    V("tags", SELECT, "channel returns", "product.tags", sql="tags_text", label="Product tags"),
    V("location_id", STRING, "channel sourcing returns", "location.id", label="Location ID"),
    V("location_type", STRING, "channel sourcing returns", "location.type", options=LOCATION_TYPES),
    V("region", STRING, "channel sourcing", "location.region", as_text),
    V("location_tags", SELECT, "channel sourcing", "location.tags", sql="tags_text"),
    V("can_ship", BOOLEAN, "channel sourcing", "location.can_ship"),
    V("can_pickup", BOOLEAN, "channel sourcing", "location.can_pickup"),
    V("on_hand", NUMERIC, "channel", "position.on_hand"),
    V("available", NUMERIC, "channel", "position.available", compute=position_available),
    V("channel", STRING, "channel sourcing returns", "request.channel"),
    V("order_value", NUMERIC, "sourcing", "order.order_value"),
    V("line_count", NUMERIC, "sourcing", "order.line_count"),
    V("customer_tier", STRING, "sourcing", "order.customer_tier", as_text),
    V("delivery_method", STRING, "sourcing", "order.delivery_method", options=DELIVERY_METHODS),
    V("distance_km", NUMERIC, "sourcing", "computed: km to the ship-to", label="Distance (km)"),
    V("backlog_ratio", NUMERIC, "sourcing", "computed: open lines / daily capacity"),
    V("condition", STRING, "returns", "return_line.condition", as_text, options=CONDITIONS),
    V("reason", STRING, "returns", "return_line.reason", as_text),
    V("days_since_delivery", NUMERIC, "returns", "computed: days since delivery"),
)
del V

VARIABLES_BY_NAME: Mapping[str, Variable] = MappingProxyType({v.name: v for v in VARIABLES})
if len(VARIABLES_BY_NAME) != len(VARIABLES):
    raise ValueError("a rule variable is declared twice")
ENTITIES: tuple[str, ...] = tuple(dict.fromkeys(v.entity for v in VARIABLES if v.entity))


def variables_of(context: str) -> tuple[Variable, ...]:
    """The variables a context's rules may use, in declaration order."""
    if context not in CONTEXTS:
        raise ValueError(f"unknown rule context {context!r} (expected one of {CONTEXTS})")
    return tuple(v for v in VARIABLES if v.in_context(context))


def variables_of_entity(entity: str) -> tuple[Variable, ...]:
    """The variables read from one kind of record, in declaration order."""
    if entity not in ENTITIES:
        raise ValueError(f"unknown entity {entity!r} (expected one of {ENTITIES})")
    return tuple(v for v in VARIABLES if v.entity == entity)


def _reader(variable: Variable) -> Callable[[Any], Any]:
    get = variable.compute or attrgetter(variable.attribute or "")
    read = variable.read
    return get if read is None else lambda record: read(get(record))


# entity -> ((variable name, record -> value), ...), built once: catalogs read many records
_READERS: Mapping[str, tuple[tuple[str, Callable[[Any], Any]], ...]] = MappingProxyType({
    entity: tuple((v.name, _reader(v)) for v in variables_of_entity(entity))
    for entity in ENTITIES
})


def readers_of(entity: str) -> tuple[tuple[str, Callable[[Any], Any]], ...]:
    """(variable name, record -> value) for each variable of one kind of record: for hot
    paths that add one record's facts to a dict they build anyway."""
    readers = _READERS.get(entity)
    if readers is None:
        raise ValueError(f"unknown entity {entity!r} (expected one of {ENTITIES})")
    return readers


def entity_facts(entity: str, record: Any) -> dict[str, Any]:
    """The rule variables of one record: a SQLAlchemy row or any object with the attributes.

    ``entity_facts("product", p)`` gives sku, category, brand, price and tags with their
    defaults (``category or ""``, ``float(price or 0)``, ``list(tags or [])``...); a
    missing attribute raises AttributeError.
    """
    readers = _READERS.get(entity)
    if readers is None:
        raise ValueError(f"unknown entity {entity!r} (expected one of {ENTITIES})")
    return {name: read(record) for name, read in readers}


def rule_columns(
    tables: Mapping[str, Any], computed: Mapping[str, Any], context: str = "channel"
) -> dict[str, Any]:
    """Each variable of the context as an SQL expression, for compiling conditions to SQL.

    ``tables`` maps an entity to its SQLAlchemy Table (``{"product": products, ...}``):
    a variable read from an attribute becomes that table's column (``tags`` →
    ``products.tags_text``). ``computed`` gives the expression of each computed variable
    (``{"available": ...}``) and may stand in for any other. Variables of entities without
    a table and not in ``computed`` (``channel``, from the request) are left out.
    """
    variables = variables_of(context)
    unknown = set(computed) - {v.name for v in variables}
    if unknown:
        raise ValueError(f"not variables of the {context} context: {sorted(unknown)}")
    columns: dict[str, Any] = {}
    for v in variables:
        if v.name in computed:
            columns[v.name] = computed[v.name]
        elif v.entity in tables:
            if v.column is None:
                raise KeyError(f"{v.name} is computed from the {v.entity}: pass its expression")
            columns[v.name] = tables[v.entity].c[v.column]
    return columns
