#!/bin/sh
# test_man.sh - the manual page ticketsweep(1) (tools/man/mkman.py, as make man
# and make install build it) lists what --help lists: every option of every
# command (`ticketsweep --help` and each `ticketsweep COMMAND --help`) as an
# option entry of its command's section, every usage line in SYNOPSIS, every
# job-file key under its [section], and the binary's version; groff finds
# nothing to warn about; man(1) renders it. A --help with a heading the
# generator does not know fails the generator, not the page.
. "$(dirname "$0")/lib.sh"
[ -x "$TS" ] || fail "$TS is missing: run make first"
command -v man >/dev/null || fail "man is not installed (Debian: man-db; make deps installs it)"
command -v groff >/dev/null || fail "groff is not installed (Debian: groff-base)"

"$PY" "$TOP/tools/man/mkman.py" "$TS" >"$W/ticketsweep.1" 2>"$W/mkman.err" || { cat "$W/mkman.err"; fail "mkman.py"; }
groff -man -ww -z "$W/ticketsweep.1" 2>"$W/groff.err" || fail "groff exit status"
[ ! -s "$W/groff.err" ] || { cat "$W/groff.err"; fail "groff warns about the page"; }
LC_ALL=C.UTF-8 MANWIDTH=250 MAN_KEEP_FORMATTING= man -l "$W/ticketsweep.1" 2>"$W/man.err" | col -bx >"$W/page" ||
    { cat "$W/man.err"; fail "man -l"; }
[ ! -s "$W/man.err" ] || { cat "$W/man.err"; fail "man -l warns"; }

"$TS" --help >"$W/help" || fail "--help"
for c in run merge status; do "$TS" "$c" --help >"$W/help_$c" || fail "$c --help"; done
"$PY" - "$W" "$("$TS" --version)" <<'PY' || fail "the page does not list what --help lists"
import re, sys
w, version = sys.argv[1], sys.argv[2].split()[1]
page = open(f"{w}/page").read().split("\n")
errors = []


def section(title, level):
    """The lines of the page's section (level 0: .SH, 1: .SS) called title."""
    indent = "" if level == 0 else "   "
    start = [i for i, l in enumerate(page) if l == indent + title]
    if not start:
        errors.append(f"no section {title!r}")
        return []
    out = []
    for l in page[start[0] + 1:]:
        if l and not l.startswith(" ") or (level == 1 and re.match(r"^   \S", l)):
            break
        out.append(l)
    return out


def terms(lines):
    """The option or key entries (.TP terms) of lines: 7 spaces, then the term."""
    return [l.strip() for l in lines if re.match(r"^       \S", l)]


helps = {c: open(f"{w}/help_{c}").read() for c in ("run", "merge", "status")}
top = open(f"{w}/help").read()
n_opts = 0
for c, text in helps.items():
    sec = section(f"ticketsweep {c}", 1)
    have = " ".join(t for t in terms(sec) if t.startswith("-"))
    for line in text.split("\n"):
        m = re.match(r"^\s{2,8}(-\S.*?)(\s{2,}|$)", line)
        if m and not line.startswith(" " * 20):
            for opt in re.findall(r"--?[A-Za-z][\w-]*", m.group(1).split("  ")[0]):
                n_opts += 1
                if not re.search(r"(^|[\s,])" + re.escape(opt) + r"(\s|,|$)", have):
                    errors.append(f"{c}: option {opt} is not an entry of section 'ticketsweep {c}'")
    # the command's --help is the top --help's section: its options there too
    if text.split("\n\n", 1)[1].split("\n\nJob-file keys")[0] not in top:
        errors.append(f"`ticketsweep {c} --help` is not a part of `ticketsweep --help`")
if n_opts < 20:
    errors.append(f"only {n_opts} options found in the --help texts: is the layout still read?")
synopsis = " ".join(l.strip() for l in section("SYNOPSIS", 0))
usage = top.split("\n\n")[0].replace("usage:", "")
for tok in usage.split():
    if tok not in synopsis.split():
        errors.append(f"SYNOPSIS lacks {tok!r} of the usage")
keys = section("JOB-FILE KEYS", 0)
cur, found = None, {}
for l in keys:
    s = re.match(r"^   \[(\w+)\]$", l)
    if s:
        cur = s.group(1)
    elif re.match(r"^ {7}\w+(\s|$)", l):  # a short key shares its line with its text
        found.setdefault(cur, set()).add(l.split()[0])
sect, want = None, 0
for l in top.split("\n"):
    s = re.match(r"^  \[(\w+)\]$", l)
    k = re.match(r"^    (\w+)\s", l)
    if s:
        sect = s.group(1)
    elif k and sect:
        want += 1
        if k.group(1) not in found.get(sect, ()):
            errors.append(f"JOB-FILE KEYS lacks [{sect}] {k.group(1)}")
if want < 20:
    errors.append(f"only {want} job-file keys in --help")
if not any(f"ticketsweep {version}" in l for l in page[-3:]):
    errors.append(f"the footer does not give the version {version}: {page[-3:]}")
for e in errors:
    print("FAIL:", e)
sys.exit(1 if errors else 0)
PY

# a --help laid out otherwise stops the generator with a message
printf '#!/bin/sh\n[ "$1" = --version ] && echo "ticketsweep 9.9 (results format 2)" && exit 0\nprintf "usage: ticketsweep x\\n\\nSomething new:\\n  -q  quiet\\n"\n' >"$W/fake"
chmod +x "$W/fake"
if "$PY" "$TOP/tools/man/mkman.py" "$W/fake" >"$W/fake.1" 2>"$W/fake.err"; then fail "mkman.py took an unknown heading"; fi
grep -q "heading 'Something new' is not known" "$W/fake.err" || { cat "$W/fake.err"; fail "mkman.py: no message"; }
echo "man page: ok"
