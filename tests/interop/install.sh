#!/usr/bin/env bash
# Install the interop peers at their pinned versions, each in its own prefix under a cache dir,
# reused when already complete (a marker file is written last). Usage: install.sh [litellm|ccr|portkey|all]
# Exits non-zero, loudly, when an install fails: the interop tests must fail then, not skip.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=versions.sh
source "$here/versions.sh"
cache="${RELAYCHECK_INTEROP_CACHE:-$HOME/.cache/relaycheck-interop}"
mkdir -p "$cache"

timed() {  # name dir command...: run the install unless dir/.complete exists; print the seconds it took
  local name="$1" dir="$2"; shift 2
  if [ -f "$dir/.complete" ]; then
    echo "interop: $name cached in $dir"
    return 0
  fi
  rm -rf "$dir"
  local t0=$SECONDS
  if ! "$@"; then
    echo "interop: INSTALL FAILED for $name (no registry access?)" >&2
    rm -rf "$dir"
    return 1
  fi
  touch "$dir/.complete"
  echo "interop: installed $name in $((SECONDS - t0)) s into $dir"
}

install_litellm() {
  local dir="$cache/litellm-$LITELLM_VERSION"
  # Exactly this version: two other releases were compromised (BerriAI/litellm#24518).
  timed "litellm $LITELLM_VERSION" "$dir" bash -c "
    python3 -m venv '$dir' &&
    '$dir/bin/pip' install -q --disable-pip-version-check 'litellm[proxy]==$LITELLM_VERSION' 'prisma==$PRISMA_VERSION'"
}

install_npm() {  # name package version
  local dir="$cache/$1-$3"
  timed "$2@$3" "$dir" bash -c "
    mkdir -p '$dir' &&
    npm install --prefix '$dir' --no-audit --no-fund --loglevel=error --ignore-scripts=false '$2@$3'"
}

which="${1:-all}"
rc=0
case "$which" in
  litellm) install_litellm || rc=1 ;;
  ccr) install_npm ccr "$CCR_PACKAGE" "$CCR_VERSION" || rc=1 ;;
  portkey) install_npm portkey "$PORTKEY_PACKAGE" "$PORTKEY_VERSION" || rc=1 ;;
  all)
    install_litellm || rc=1
    install_npm ccr "$CCR_PACKAGE" "$CCR_VERSION" || rc=1
    install_npm portkey "$PORTKEY_PACKAGE" "$PORTKEY_VERSION" || rc=1
    ;;
  *) echo "usage: install.sh [litellm|ccr|portkey|all]" >&2; exit 2 ;;
esac
exit $rc
