"""The layer catalog's entries, one module per family; `core.catalog` gathers them."""
