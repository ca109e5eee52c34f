"""Where mmschema keeps what it writes: the user's mmschema home and the plans' cache."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

HOME_VARIABLE = "MMSCHEMA_HOME"
CACHE_VARIABLE = "MMSCHEMA_CACHE_DIR"
PROJECT_DIR = ".mmschema"
KEY_NAME = "cache.key"


def mmschema_home(env: Mapping[str, str] | None = None) -> Path:
    """`$MMSCHEMA_HOME`, else `$XDG_CACHE_HOME/mmschema`, else `~/.cache/mmschema`."""
    env = os.environ if env is None else env
    if env.get(HOME_VARIABLE):
        return Path(env[HOME_VARIABLE]).expanduser().absolute()
    xdg = env.get("XDG_CACHE_HOME", "")
    if os.path.isabs(xdg):  # the XDG spec ignores a relative value
        return Path(xdg) / "mmschema"
    home = env.get("HOME") or str(Path.home())
    return Path(home) / ".cache" / "mmschema"


def cache_dir(workdir: Path, env: Mapping[str, str] | None = None) -> Path:
    """Where plans keep their cache: `$MMSCHEMA_CACHE_DIR`, else `<workdir>/.mmschema/cache`."""
    env = os.environ if env is None else env
    configured = env.get(CACHE_VARIABLE)
    if configured:
        return Path(workdir) / Path(configured).expanduser()
    return Path(workdir) / PROJECT_DIR / "cache"


def signing_key_file(env: Mapping[str, str] | None = None) -> Path:
    """The key that signs cache files.

    It lives in the user's mmschema home, out of any project, so that a cache directory
    found in a cloned repository is never trusted. A `$MMSCHEMA_CACHE_DIR` the user names
    keeps its own key, so that CI can restore the directory on a fresh runner and hit.
    """
    env = os.environ if env is None else env
    configured = env.get(CACHE_VARIABLE)
    if configured:
        return Path(configured).expanduser().absolute() / KEY_NAME
    return mmschema_home(env) / KEY_NAME
