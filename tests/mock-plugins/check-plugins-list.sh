#!/bin/sh
# usage: check-plugins-list.sh NONO MOCK_CONF MOCK_DIR
# `nono plugins list` over the mock plugin directory (MOCK_CONF sets plugin_dir=MOCK_DIR).
set -u
nono=$1
export NONO_CONFIG=$2
dir=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() {
        echo "FAIL: $*"
        echo "--- stdout"; cat "$tmp/out"
        echo "--- stderr"; cat "$tmp/err"
        exit 1
}

"$nono" plugins list >"$tmp/out" 2>"$tmp/err"
[ $? -eq 1 ] || fail "exit status is not 1 although files are refused"
head -n 1 "$tmp/out" | grep -Eq '^KIND +NAME +VERSION +ABI +FILE$' || fail "no table header"
grep -Eq "^enforcer +good +1\.0-mock +1\.0 +$dir/nono-enforcer-good\.so\$" "$tmp/out" ||
        fail "good enforcer missing from the table"
[ "$(grep -c . "$tmp/out")" -eq 8 ] || fail "expected a header and 7 plugins"
grep -Fqx "nono: refused $dir/nono-enforcer-major.so: plugin ABI 2.0, host ABI 1.0: the major versions differ" "$tmp/err" ||
        fail "no refusal line for the major mismatch"
[ "$(grep -c '^nono: refused ' "$tmp/err")" -eq 15 ] || fail "expected 15 refused files"

"$nono" plugins list --json >"$tmp/out" 2>"$tmp/err"
[ $? -eq 1 ] || fail "--json: exit status is not 1"
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert len(d["plugins"]) == 7, d["plugins"]
assert len(d["refused"]) == 15, d["refused"]
good = [p for p in d["plugins"] if p["kind"] == "enforcer" and p["name"] == "good"][0]
assert good["abi"] == "1.0" and good["version"] == "1.0-mock", good
' "$tmp/out" || fail "--json output"

"$nono" plugins list --help >"$tmp/out" 2>"$tmp/err" || fail "--help failed"
grep -q '^usage: nono plugins list' "$tmp/out" || fail "--help prints no usage"
"$nono" plugins frobnicate >"$tmp/out" 2>"$tmp/err" && fail "unknown subcommand accepted"
grep -q 'unknown plugins command "frobnicate"' "$tmp/err" || fail "unknown subcommand message"

echo "ok"
