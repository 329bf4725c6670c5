"""ticketsweep.page: the report as one self-contained HTML page (lth_report --format html).

write(path, r, ...) writes a page that needs nothing beside it: the figures
are PNG data URIs, the style is inline, there is no script and no link to
anything outside the page, so it can be mailed, attached to a ticket or
opened from a laptop's download folder as it is. It holds, in order:

  - the sweep's status: trials done, failed and pending, the same for the
    trainings (/nodes), and the trials that are not done with their errors;
  - the figures of the report, each with its caption;
  - the summary table (summary.csv's rows);
  - the paper's claims, where the job is one they apply to: a per_round job
    with the reinit control, checked by lenet_claims (fully connected models)
    or conv_claims (convolutional ones), their tables as they print them;
  - the job (the resolved job file the results file stores);
  - the provenance: the software that wrote the file, when, the job's hash,
    and each distinct set of numerics its trainings ran with (CPU, vector
    path, BLAS core, convolutions) and the hosts, with counts.
"""
import base64
import contextlib
import html
import io

import numpy as np

from . import conv_claims, lenet_claims
from .results import DONE, FAILED, PENDING, STATUS_NAMES

STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; color: #1a1a1a; max-width: 60em; margin: 2em auto;
       padding: 0 1em; background: #fff; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 2em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.2em 0.5em; text-align: right; }
th:first-child, td:first-child, td.text { text-align: left; }
th { background: #f0f0f0; }
figure { margin: 1.5em 0; } figure img { width: 640px; max-width: 100%; height: auto; }
figcaption { font-size: 0.9em; color: #333; max-width: 46em; }
pre { background: #f6f6f6; padding: 0.8em; overflow-x: auto; font-size: 0.85em; }
.ok { color: #17631d; } .bad { color: #a11; }
"""

# provenance: the /nodes datasets that say how each training computed
NUMERICS = ("cpu", "simd", "blas_core", "openblas_coretype", "openblas_l2_size", "conv")


def png_uri(fig, dpi):
    """A matplotlib figure as a data: URI of its PNG."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight", pad_inches=0.02)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _text(v):
    return v.decode("utf-8", "replace") if isinstance(v, (bytes, np.bytes_)) else str(v)


def table(head, rows, text_cols=()):
    """An HTML table; cells escaped; the columns in text_cols aligned left."""
    out = ["<table>", "<tr>" + "".join(f"<th>{html.escape(str(h))}</th>" for h in head) + "</tr>"]
    left = ' class="text"'
    for row in rows:
        out.append("<tr>" + "".join(f"<td{left if i in text_cols else ''}>{html.escape(str(c))}</td>"
                                    for i, c in enumerate(row)) + "</tr>")
    out.append("</table>")
    return "\n".join(out)


def markdown(text):
    """The little Markdown the claim checkers print: tables (| a | b |, a
    |---| line after the head) and paragraphs, as HTML."""
    out, rows = [], []

    def flush():
        if rows:
            out.append(table(rows[0], rows[1:], text_cols=(0, 1, 2)))
            rows.clear()
    for line in text.split("\n"):
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if not all(set(c) <= set("-:") and c for c in cells):
                rows.append(cells)
            continue
        flush()
        if line.strip():
            out.append(f"<p>{html.escape(line)}</p>")
    flush()
    return "\n".join(out)


def status_section(r):
    """Counts of trials and trainings by status, and the trials not done."""
    st = r.trials["status"]
    nodes = r.file["nodes/status"][:] if "nodes/status" in r.file else np.array([], dtype=np.int8)
    count = lambda a, s: int(np.sum(a == s))  # noqa: E731
    cls = "ok" if r.done.all() else "bad"
    out = [f'<p class="{cls}">{len(st)} trials: {count(st, DONE)} done, {count(st, FAILED)} failed, '
           f"{count(st, PENDING)} pending; {len(nodes)} trainings: {count(nodes, DONE)} done, "
           f"{count(nodes, FAILED)} failed, {count(nodes, PENDING)} pending.</p>"]
    if not r.done.all():
        rows = [(int(t["index"]), f"{t['rate']:g}", int(t["rounds"]), int(t["seed"]),
                 STATUS_NAMES.get(int(t["status"]), "?"), t["error"])
                for t in r.trials if t["status"] != DONE]
        out.append("<p>Trials not done (left out of the figures and tables; "
                   "<code>ticketsweep run --resume</code> runs them):</p>")
        out.append(table(("trial", "rate", "rounds", "seed", "status", "error"), rows, text_cols=(4, 5)))
    return "\n".join(out)


def claims_section(r):
    """The paper's claim tables for this job, or why there are none."""
    if r.per_round is None or "reinit" not in r.arms:
        return ("<p>The paper's claims are checked on a per_round job with the reinit control "
                "(jobs/lenet300-paper.ini, jobs/conv2-paper.ini); this job is not one.</p>")
    conv = [l for l in r.layers if l.startswith("conv")]
    arch = r.config.get("model", "arch", fallback="custom").strip()
    if conv:
        arch = arch if arch in conv_claims.PAPER else f"conv{len(conv)}"
        if arch not in conv_claims.PAPER:
            return f"<p>No claims of the paper for a model with {len(conv)} convolutions.</p>"
        tool, argv = conv_claims, [r.path, arch]
    else:
        tool, argv = lenet_claims, [r.path]
    name = tool.__name__.rsplit(".", 1)[-1]
    buf = io.StringIO()
    try:
        with contextlib.redirect_stdout(buf):
            tool.main([str(a) for a in argv])
    except SystemExit as e:  # a refusal: its message, and whatever came before it
        return (f"<p><code>{name}</code>: {html.escape(str(e.code))}</p>" + markdown(buf.getvalue()))
    return f"<p>As <code>{name} {html.escape(' '.join(map(str, argv)))}</code> prints them:</p>\n" + \
        markdown(buf.getvalue())


def provenance_section(r):
    """What wrote the file, and how its trainings computed."""
    a = r.attrs
    rows = [(k, _text(a[k])) for k in ("software_version", "created", "format", "format_version",
                                       "config_hash", "graph_shared") if k in a]
    out = [table(("attribute", "value"), rows, text_cols=(0, 1))]
    f = r.file
    if "nodes/status" not in f:
        return "\n".join(out)
    done = f["nodes/status"][:] == DONE
    have = [k for k in NUMERICS if f"nodes/{k}" in f]
    if have:
        cols = [[_text(v) for v in f[f"nodes/{k}"][:]] for k in have]
        combos = {}
        for i in np.flatnonzero(done):
            key = tuple(c[i] for c in cols)
            combos[key] = combos.get(key, 0) + 1
        out.append(f"<p>The numerics of the {int(done.sum())} trainings done, each set with how many "
                   "trainings ran with it:</p>")
        out.append(table(("trainings",) + tuple(have), [(n,) + k for k, n in combos.items()],
                         text_cols=tuple(range(1, len(have) + 1))))
    else:
        out.append("<p>The numerics of the trainings: not recorded (a file of an earlier release).</p>")
    if "nodes/host" in f:
        hosts = {}
        for i in np.flatnonzero(done):
            h = _text(f["nodes/host"][i])
            hosts[h] = hosts.get(h, 0) + 1
        out.append(table(("host", "trainings"), sorted(hosts.items()), text_cols=(0,)))
    return "\n".join(out)


def write(path, r, figures, captions, head, rows):
    """Write the page to path. figures: {name: data URI}, captions: {name:
    text}, head and rows: the summary table (rows of text)."""
    title = f"Lottery-ticket report: {r.path}"
    parts = [
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(title)}</title>", f"<style>{STYLE}</style>", "</head>", "<body>",
        f"<h1>{html.escape(title)}</h1>",
        f"<p>{html.escape(_text(r.attrs.get('software_version', '?')))}; written "
        f"{html.escape(_text(r.attrs.get('created', '?')))}.</p>",
        '<h2 id="status">Status</h2>', status_section(r),
        '<h2 id="figures">Figures</h2>',
    ]
    for name, uri in figures.items():
        parts.append(f'<figure id="{name}"><img src="{uri}" alt="{html.escape(name)} figure">'
                     f"<figcaption>{html.escape(captions[name])}</figcaption></figure>")
    parts += ['<h2 id="summary">Summary</h2>',
              "<p>One row per arm and group, as summary.csv (means over seeds; accuracies are "
              "fractions).</p>", table(head, rows, text_cols=(0,)),
              '<h2 id="claims">The paper\'s claims</h2>', claims_section(r),
              '<h2 id="job">The job</h2>', f"<pre>{html.escape(r.config_text)}</pre>",
              '<h2 id="provenance">Provenance</h2>', provenance_section(r),
              "</body>", "</html>"]
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("\n".join(parts) + "\n")
