"""The stages of a plan, generic over the object kinds of mmschema/kinds."""
