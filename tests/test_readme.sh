#!/bin/sh
# The manual documents every key and option where it explains it: each
# job-file key that `ticketsweep --help` lists has its row in the key table of
# docs/job-files.md (section "Job files": the row's first cell names it), and
# each option that `ticketsweep run --help` lists (--dry-run and --no-share
# among them) has its row in the options table of docs/running.md (section
# "Running"). A key or option mentioned elsewhere, in backticks or not, does
# not count.
. "$(dirname "$0")/lib.sh"
"$TS" --help >"$W/help" || fail "--help exit status"
"$TS" run --help >"$W/run-help" || fail "run --help exit status"
n=$(grep -c '^    [a-z_]* ' "$W/help")
[ "$n" -ge 20 ] || fail "--help lists only $n keys"
"$PY" - "$W/help" "$W/run-help" "$TOP/docs/job-files.md" "$TOP/docs/running.md" <<'PYEOF' || fail "the reference sections lack rows (above)"
import re, sys

help_text, run_help, keys_md, run_md = (open(p).read() for p in sys.argv[1:5])


def section(md, title):
    """The lines of `## title` up to the next heading of its level or above."""
    out, inside = [], False
    for line in md.splitlines():
        if re.match(r"^#{1,2} ", line):
            inside = line.strip() == "## " + title
        elif inside:
            out.append(line)
    if not out:
        sys.exit(f"no section '## {title}'")
    return out


def first_cells(lines):
    """The first cell of each table row but the header and the rule."""
    rows = [l for l in lines if l.startswith("|")]
    return [r.split("|")[1].strip() for r in rows[2:]]


missing = []
cells = first_cells(section(keys_md, "Job files"))
sec = ""
for line in help_text.splitlines():
    m = re.match(r"^  \[(\w+)\]$", line)
    if m:
        sec = m.group(1)
        continue
    m = re.match(r"^    ([a-z_0-9]+) ", line)
    if m:
        key = m.group(1)
        # `[section] key`, or a row of several: `[section] a`, `b`, `c`
        if not any(re.match(rf"^`\[{sec}\] (\w+`, `)*{key}`(, `\w+`)*$", c) or
                   re.match(rf"^`\[{sec}\] \w+`(, `\w+`)*, `{key}`", c) for c in cells):
            missing.append(f"{sec}.{key} (docs/job-files.md, the key table of 'Job files')")

opts = re.findall(r"^ {2}(?:-\w, )? *(--[a-z][a-z-]*)", run_help, re.M)
opts = [o for o in opts if o != "--help"]
for must in ("--dry-run", "--no-share", "--output", "--set", "--resume", "--force", "--shard",
             "--grace", "--claim-timeout", "--cores", "--nodes", "--threads"):
    if must not in opts:
        missing.append(f"{must} (not listed by run --help)")
cells = first_cells(section(run_md, "Running"))
for o in opts:
    if not any(re.search(rf"`{o}( [^`]*)?`", c) for c in cells):
        missing.append(f"{o} (docs/running.md, the options table of 'Running')")
for m in missing:
    print("not documented where it is explained:", m)
sys.exit(1 if missing else 0)
PYEOF
exit 0
