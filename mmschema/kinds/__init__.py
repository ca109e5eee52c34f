"""One module per object kind behind the protocol of kinds/base.py (views so far; tables,
columns, indexes and constraints move here next, out of model/introspect/diff/changes/ddl)."""
