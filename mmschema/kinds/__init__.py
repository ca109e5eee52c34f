"""One module (or package: tables/) per object kind, behind the protocols of kinds/base.py."""
