#!/usr/bin/env bash
# Installs what `make run` and `make test` need and is missing, and nothing else:
#   - PostgreSQL 15 server (Debian package) and its headers,
#   - pgvector 0.8.0, built from Debian's own source package (trixie's pgvector; bookworm
#     has none), installed into PostgreSQL 15,
#   - the Temporal CLI v1.5.1 and workflowcheck, built with `go install` into a cache
#     outside the checkout (~/.cache/noor/bin) so every clone reuses them,
#   - Chromium, the Noto fonts (Arabic) and poppler-utils: quotation PDFs and browser tests.
# Every step checks first, so a second run takes a second.
set -euo pipefail

CACHE="${NOOR_CACHE:-$HOME/.cache/noor}"
BIN="$CACHE/bin"
TEMPORAL_VERSION="v1.5.1"
WORKFLOWCHECK_VERSION="v0.6.0"
PGVECTOR_VERSION="0.8.0"
PG_MAJOR=15
PG_BIN="/usr/lib/postgresql/$PG_MAJOR/bin"

say() { printf '▶ %s\n' "$*"; }
sudo_() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

apt_install() {
  # Try from the current package lists first; refresh them only if that fails.
  if ! sudo_ env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >/tmp/noor-apt.log 2>&1; then
    sudo_ apt-get update -q >>/tmp/noor-apt.log 2>&1
    sudo_ env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >>/tmp/noor-apt.log 2>&1 ||
      { cat /tmp/noor-apt.log; echo "apt-get install $* failed" >&2; exit 1; }
  fi
}

mkdir -p "$BIN"

# --- PostgreSQL 15 server + headers ------------------------------------------------------
need_pkgs=()
[ -x "$PG_BIN/postgres" ] || need_pkgs+=("postgresql-$PG_MAJOR" "postgresql-contrib")
dpkg -s "postgresql-server-dev-$PG_MAJOR" >/dev/null 2>&1 || need_pkgs+=("postgresql-server-dev-$PG_MAJOR")
command -v dpkg-source >/dev/null || need_pkgs+=(dpkg-dev)
command -v make >/dev/null || need_pkgs+=(make)
command -v gcc >/dev/null || need_pkgs+=(gcc)
# Chromium renders quotation PDFs (so `make run` needs it too) and drives the browser tests;
# fonts-noto-core has the Arabic faces for RTL names and addresses; poppler-utils
# (pdftotext, pdftoppm) lets tests read and look at the PDFs.
command -v chromium >/dev/null || need_pkgs+=(chromium)
[ -d /usr/share/fonts/truetype/noto ] || need_pkgs+=(fonts-noto-core)
command -v pdftotext >/dev/null || need_pkgs+=(poppler-utils)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  say "installing Debian packages: ${need_pkgs[*]}"
  apt_install "${need_pkgs[@]}"
fi
if [ "$(id -u)" = 0 ] && [ -x "$PG_BIN/postgres" ]; then
  # Debian's package starts a cluster on 5432; we never use it, so stop it if it runs.
  if command -v pg_ctlcluster >/dev/null && pg_lsclusters -h 2>/dev/null | grep -q online; then
    pg_lsclusters -h | awk '$4=="online"{print $1, $2}' | while read -r v c; do pg_ctlcluster "$v" "$c" stop || true; done
  fi
fi

# --- pgvector ------------------------------------------------------------------------------
ext_dir="$(/usr/lib/postgresql/$PG_MAJOR/bin/pg_config --sharedir 2>/dev/null || echo /usr/share/postgresql/$PG_MAJOR)/extension"
if [ ! -f "$ext_dir/vector--$PGVECTOR_VERSION.sql" ]; then
  say "building pgvector $PGVECTOR_VERSION from Debian's source package (about a minute)"
  src="$CACHE/apt-trixie"
  mkdir -p "$src/lists/partial" "$src/src"
  # A private deb-src list: the system's sources stay untouched.
  echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main" >"$src/sources.list"
  aptopts=(-o "Dir::Etc::SourceList=$src/sources.list" -o "Dir::Etc::SourceParts=/nonexistent" -o "Dir::State::Lists=$src/lists")
  apt-get "${aptopts[@]}" update -q >/tmp/noor-pgvector.log 2>&1 || { cat /tmp/noor-pgvector.log; exit 1; }
  (cd "$src/src" && rm -rf pgvector-* && apt-get "${aptopts[@]}" source "pgvector=$PGVECTOR_VERSION-1" >>/tmp/noor-pgvector.log 2>&1) ||
    { cat /tmp/noor-pgvector.log; echo "could not fetch pgvector's source package" >&2; exit 1; }
  # OPTFLAGS="" avoids -march=native: the library must run on any x86-64 this cache moves to.
  make -C "$src/src/pgvector-$PGVECTOR_VERSION" -j"$(nproc)" PG_CONFIG="$PG_BIN/pg_config" OPTFLAGS="" >>/tmp/noor-pgvector.log 2>&1 ||
    { tail -30 /tmp/noor-pgvector.log; exit 1; }
  sudo_ make -C "$src/src/pgvector-$PGVECTOR_VERSION" install PG_CONFIG="$PG_BIN/pg_config" >>/tmp/noor-pgvector.log 2>&1 ||
    { tail -30 /tmp/noor-pgvector.log; exit 1; }
fi

# --- Temporal CLI and workflowcheck -------------------------------------------------------
# `go install` does not stamp a version into the binary, so a marker file records it.
if [ ! -x "$BIN/temporal" ] || [ "$(cat "$BIN/temporal.version" 2>/dev/null)" != "$TEMPORAL_VERSION" ]; then
  say "building the Temporal CLI $TEMPORAL_VERSION (first time ≈3 minutes, then cached in $BIN)"
  (cd /tmp && GOBIN="$BIN" GOFLAGS=-mod=mod go install "github.com/temporalio/cli/cmd/temporal@$TEMPORAL_VERSION")
  echo "$TEMPORAL_VERSION" >"$BIN/temporal.version"
fi
if [ ! -x "$BIN/workflowcheck" ] || [ "$(cat "$BIN/workflowcheck.version" 2>/dev/null)" != "$WORKFLOWCHECK_VERSION" ]; then
  say "building workflowcheck $WORKFLOWCHECK_VERSION"
  (cd /tmp && GOBIN="$BIN" GOFLAGS=-mod=mod go install "go.temporal.io/sdk/contrib/tools/workflowcheck@$WORKFLOWCHECK_VERSION")
  echo "$WORKFLOWCHECK_VERSION" >"$BIN/workflowcheck.version"
fi
exit 0
