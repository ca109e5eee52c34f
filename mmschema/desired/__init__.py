"""Loading and validating the desired-state file."""
