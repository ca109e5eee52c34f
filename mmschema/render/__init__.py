"""Renderers of plans and apply runs: text (rich), json."""
