#!/usr/bin/python3
"""Write the manual page ticketsweep(1) from the binary's own --help.

    tools/man/mkman.py BUILD/ticketsweep > BUILD/ticketsweep.1

The Makefile runs it after each build (make man; make install installs the
page), so the page lists what the binary lists: every command's usage,
options and exit status, and every job-file key with its default. The text
that --help does not carry (what the program is, the Python package, where
to read more) is here, in HEAD and TAIL.

`ticketsweep --help` is read as it is laid out (src/main.c's usage and the
key table): the usage lines, then per command a description, "Options of
CMD:" with one option a line (the term, then its text from the 22nd column,
continued on deeper-indented lines), and "Exit status of CMD: ..."; last,
"Job-file keys ...:" with "[section]" lines and key lines. help2man reads
GNU-style help ("Usage:", one command) and lays this one out badly, hence
this small reader. A line it cannot place ends it with an error, so a change
of the layout fails the build instead of dropping text.
"""
import re
import subprocess
import sys

NAME = "lottery-ticket sweeps (iterative magnitude pruning) on MPI, into one HDF5 file"
HEAD = r"""
.SH DESCRIPTION
.B ticketsweep
runs the lottery-ticket experiment of Frankle & Carbin (2019), iterative magnitude
pruning with resets to the initial weights, over a grid of pruning rates (or per-round
rates), round counts and seeds, with the reinit and random-mask controls, under MPI
(one rank a training at a time, the trainings of a grid shared between its cells). It
writes one HDF5 results file (parallel HDF5), which
.B ticketsweep status
reads while a run writes it, a run with
.B \-\-resume
completes after an interruption, and
.B ticketsweep merge
assembles from the shards of a run split with
.BR \-\-shard .
.PP
A job is an INI file (see
.B JOB-FILE KEYS
below); unknown keys are errors.
.B ticketsweep run JOB.ini \-\-dry\-run
prints the work, the file size and the memory a run needs, without running it.
"""
TAIL = r"""
.SH FILES
.TP
.I OUT.h5
the results file (format "ticketsweep-results", version 2): the grid, each trial's
status, learning curves, summary (density, early-stop iteration and accuracy), masks,
initial weights, and the provenance of every training.
.TP
.I OUT.h5.claim
the claim of the run that writes OUT.h5 (one writer per file; stale after
.B \-\-claim\-timeout
seconds without heartbeat).
.SH SEE ALSO
.BR mpirun (1),
.BR h5dump (1).
The Python package
.B ticketsweep
(tools/python; installed by
.BR "make install" )
reads the results file, with
.B lth_report
(the paper's figures and tables, or one HTML page:
.BR "lth_report \-\-help" ),
.B lenet_claims
and
.BR conv_claims ;
tools/octave/load_ticketsweep.m reads it in MATLAB and GNU Octave.
README.md of the source tree is the full manual.
"""
OPTION = re.compile(r"^(\s{2,8})(-\S.*)$")   # "  -o, --output FILE   text" or "      --no-share  text"
HEADING = re.compile(r"^(\S.*):$")           # "Options of run:", "Job-file keys (...):"
SECTION = re.compile(r"^  \[(\w+)\]$")       # "  [data]"
KEY = re.compile(r"^    (\w+)\s+(.*)$")      # "    train_images      text"
DESC_COL = 22                                # where an option's text starts (src/main.c)


def esc(text):
    """Text as roff: backslashes doubled, every hyphen a minus (so that options
    copy and search as typed), a leading dot or quote escaped."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    return ("\\&" + text) if text[:1] in (".", "'") else text


def split_option(line):
    """(term, text) of an option line: the text starts at DESC_COL, or, where the
    term runs past it, after the first two spaces (else the first space) past
    the term's start."""
    if len(line) > DESC_COL and line[DESC_COL - 2:DESC_COL] == "  " and line[DESC_COL] != " ":
        return line[:DESC_COL].strip(), line[DESC_COL:].strip()
    body = line.lstrip()
    m = re.search(r"\s{2,}", body)
    if m:
        return body[:m.start()], body[m.end():]
    cut = body.find(" ", max(0, DESC_COL - (len(line) - len(body))))
    return (body, "") if cut < 0 else (body[:cut], body[cut + 1:])


def page(help_text, version):
    """The roff text of the page, from `ticketsweep --help` and `--version`."""
    lines = help_text.rstrip("\n").split("\n")
    out = [f'.TH TICKETSWEEP 1 "" "ticketsweep {esc(version)}" "User Commands"',
           ".nh", ".ad l", ".SH NAME", f"ticketsweep \\- {esc(NAME)}", ".SH SYNOPSIS", ".nf"]
    i = 0
    while i < len(lines) and lines[i].strip():  # the usage block, its lines as they are
        u = re.sub(r"^usage: ", "", lines[i]).strip()
        if u.startswith("ticketsweep "):
            out.append(f"\\fBticketsweep\\fR {esc(u[len('ticketsweep '):])}")
        else:
            out.append("    " + esc(u))
        i += 1
    out += [".fi", HEAD.strip(), ".SH COMMANDS"]
    para, mode = [], None

    def flush():
        if para:
            out.extend([".PP", esc(" ".join(para))])
            para.clear()
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line.strip():
            flush()
            mode = None if mode != "keys" else mode
            continue
        h = HEADING.match(line)
        if h and mode != "options":
            flush()
            title = h.group(1)
            if title.startswith("Options of "):
                # the description before it (already out as .PP) belongs to this command
                cmd = title[len("Options of "):]
                desc = out.pop() if out[-2:-1] == [".PP"] else None
                if desc is not None:
                    out.pop()
                out.append(f".SS {esc('ticketsweep ' + cmd)}")
                if desc is not None:
                    out.extend([".PP", desc])
                out.append(".PP\nOptions:")
                mode = "options"
            elif title.startswith("Job-file keys"):
                out.append(".SH JOB-FILE KEYS")
                out.extend([".PP", esc(title[len("Job-file keys"):].strip(" ()") + ":") +
                            " each key as it is written in its section, what it does, and its default."])
                mode = "keys"
            else:
                raise SystemExit(f"mkman.py: --help line {i}: heading {title!r} is not known here")
            continue
        if mode == "options":
            m = OPTION.match(line)
            if m and not line.startswith(" " * (DESC_COL - 2)):
                term, text = split_option(line)
                out.extend([".TP", f".B {esc(term)}", esc(text)])
            elif line.startswith(" " * 6) and out[-1] != ".PP":
                out[-1] += " " + esc(line.strip())
            else:
                raise SystemExit(f"mkman.py: --help line {i}: not an option: {line!r}")
            continue
        if mode == "keys":
            s, k = SECTION.match(line), KEY.match(line)
            if s:
                out.append(f".SS [{s.group(1)}]")
            elif k:
                out.extend([".TP", f".B {esc(k.group(1))}", esc(k.group(2))])
            elif line.startswith(" " * 8):
                text = line.strip()
                out.append((".br\n" if text.startswith("default:") else "") + esc(text))
            else:
                raise SystemExit(f"mkman.py: --help line {i}: not a job-file key: {line!r}")
            continue
        para.append(line.strip())
    flush()
    out.append(TAIL.strip())
    return "\n".join(out) + "\n"


def main():
    if len(sys.argv) != 2:
        raise SystemExit("usage: mkman.py PATH/TO/ticketsweep > ticketsweep.1")
    def run(*args):
        try:
            return subprocess.run([sys.argv[1], *args], capture_output=True, text=True, check=True).stdout
        except (OSError, subprocess.CalledProcessError) as e:
            raise SystemExit(f"mkman.py: {sys.argv[1]} {' '.join(args)}: {e}") from None
    version = run("--version").split()[1]
    sys.stdout.write(page(run("--help"), version))


if __name__ == "__main__":
    main()
