"""The table family: tables, columns, indexes, constraints and partitions."""
