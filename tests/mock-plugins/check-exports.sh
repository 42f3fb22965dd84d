#!/bin/sh
# usage: check-exports.sh PLUGIN_DIR [EXTRA.so...]
# Every plugin exports exactly one dynamic symbol, nono_plugin_query (DESIGN.md §3):
# anything else would be visible to other plugins and could clash with the host.
set -eu
dir=$1
shift
status=0
count=0
for so in "$dir"/*.so "$@"; do
        [ -e "$so" ] || continue
        count=$((count + 1))
        syms=$(nm -D --defined-only "$so" | awk '{ print $NF }' | sort | tr '\n' ' ')
        if [ "$syms" = "nono_plugin_query " ]; then
                echo "ok: $so"
        else
                echo "FAIL: $so exports: ${syms:-nothing}"
                status=1
        fi
done
if [ "$count" -eq 0 ]; then
        echo "FAIL: no plugin found in $dir"
        exit 1
fi
exit $status
