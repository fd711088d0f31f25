#!/usr/bin/env bash
# Installs the real client programs the e2e suite test/e2e/real-clients.test.ts drives through the
# proxy, at pinned versions, into a cache folder outside the project's lockfile:
#   Codex CLI    @openai/codex@0.171.0
#   Claude Code  @anthropic-ai/claude-code@2.1.332
#   Gemini CLI   @google/gemini-cli@0.61.0
# Default folder: .cache/real-clients/ in the repo (git-ignored); LKP_REAL_CLIENTS_DIR overrides it.
# Idempotent: when every CLI already answers --version with its pinned version, nothing is fetched.
# Needs node >= 20 and npm, and the npm registry; nothing else is downloaded.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DIR="${LKP_REAL_CLIENTS_DIR:-$ROOT/.cache/real-clients}"

CODEX_VERSION=0.171.0
CLAUDE_VERSION=2.1.332
GEMINI_VERSION=0.61.0

BIN="$DIR/node_modules/.bin"
# The Gemini CLI reads (and may write) settings under HOME even for --version: give it a scratch one.
SCRATCH_HOME="$(mktemp -d)"
trap 'rm -rf "$SCRATCH_HOME"' EXIT

installed() {
  [ -x "$BIN/codex" ] && [ -x "$BIN/claude" ] && [ -x "$BIN/gemini" ] || return 1
  "$BIN/codex" --version 2>/dev/null | grep -qx "codex-cli $CODEX_VERSION" || return 1
  "$BIN/claude" --version 2>/dev/null | grep -q "^$CLAUDE_VERSION " || return 1
  HOME="$SCRATCH_HOME" "$BIN/gemini" --version 2>/dev/null | grep -qx "$GEMINI_VERSION" || return 1
}

if installed; then
  echo "real clients already installed in $DIR"
else
  mkdir -p "$DIR"
  cat >"$DIR/package.json" <<JSON
{
  "name": "llm-key-proxy-real-clients",
  "private": true,
  "description": "Real client programs for test/e2e/real-clients.test.ts; installed by test/real-clients/install.sh",
  "dependencies": {
    "@openai/codex": "$CODEX_VERSION",
    "@anthropic-ai/claude-code": "$CLAUDE_VERSION",
    "@google/gemini-cli": "$GEMINI_VERSION"
  }
}
JSON
  started=$(date +%s)
  # Optional dependencies carry the native binaries (Codex, Claude Code); Gemini CLI's optional
  # native modules (node-pty, keytar) are not needed for `gemini -p`. Claude Code's postinstall
  # only swaps its bin stub for the platform binary; the check below catches a stub left behind.
  (cd "$DIR" && npm install --no-audit --no-fund --loglevel=error --prefix "$DIR")
  if ! "$BIN/claude" --version >/dev/null 2>&1; then
    (cd "$DIR/node_modules/@anthropic-ai/claude-code" && node install.cjs)
  fi
  echo "installed in $(( $(date +%s) - started )) s"
  installed || { echo "install.sh: the installed clients do not report the pinned versions" >&2; exit 1; }
fi

echo "codex:  $BIN/codex ($("$BIN/codex" --version))"
echo "claude: $BIN/claude ($("$BIN/claude" --version))"
echo "gemini: $BIN/gemini ($(HOME="$SCRATCH_HOME" "$BIN/gemini" --version))"
echo "size:   $(du -sh "$DIR" | cut -f1) in $DIR"
