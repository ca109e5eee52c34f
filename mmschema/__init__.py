"""mmschema: a declarative schema reconciler for PostgreSQL."""

__version__ = "0.1.0"
