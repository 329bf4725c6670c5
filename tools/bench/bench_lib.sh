# bench_lib.sh - the shell helpers tools/bench/bench.sh and tools/bench/bench_threads.sh
# share (sourced, not run). m reads $W, the caller's scratch folder.

die() { echo "bench: $*" >&2; exit 1; }
progress() { echo "bench: $*" >&2; }
# val KEY FILE: the value of the line "KEY value" in FILE
val() { awk -v k="$1" '$1 == k { $1 = ""; sub(/^ /, ""); print; exit }' "$2"; }
# the median of the numbers on stdin
median() {
    sort -g | awk '{ a[NR] = $1 }
        END { if (NR == 0) print "nan"; else if (NR % 2) print a[(NR + 1) / 2];
              else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}
# calc FORMAT EXPR: awk arithmetic, printed with FORMAT (put comparisons in
# parentheses: a bare > is awk's output redirection)
calc() { awk "BEGIN { printf \"$1\\n\", $2 }"; }
# m NAME: the median of the numbers in $W/NAME
m() { median <"$W/$1"; }
# verdict EXPR: "met" when the awk comparison holds, else "NOT met"
verdict() { [ "$(calc %d "($1)")" = 1 ] && echo met || echo "NOT met"; }
