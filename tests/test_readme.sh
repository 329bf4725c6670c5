#!/bin/sh
# README is the user's manual: every job-file key that `ticketsweep --help`
# lists appears in README's key table, and every command-line option of
# `run` is described there.
. "$(dirname "$0")/lib.sh"
"$TS" --help >"$W/help" || fail "--help exit status"
section=""
missing=""
while IFS= read -r line; do
    case "$line" in
        "  ["*"]") section=$(echo "$line" | tr -d ' []') ;;
        "    "[a-z]*)
            key=$(echo "$line" | awk '{print $1}')
            grep -q "\`\[$section\] $key\`\|\[$section\] .*\`$key\`\|\`$key\`" "$TOP/README.md" || missing="$missing $section.$key" ;;
    esac
done <"$W/help"
[ -z "$missing" ] || fail "README does not document:$missing"
for opt in --output --set --resume --force --shard --grace --claim-timeout --cores --nodes; do
    grep -q -- "$opt" "$TOP/README.md" || fail "README does not mention $opt"
done
n=$(grep -c '^    [a-z_]* ' "$W/help")
[ "$n" -ge 20 ] || fail "--help lists only $n keys"
exit 0
