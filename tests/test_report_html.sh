#!/bin/sh
# test_report_html.sh - lth_report --format html: report.html is one page that
# needs nothing beside it (every image a data: URI, no script, no link, no
# url() out of the page), holds the status (counts, the failed trial and its
# error), the three figures, the summary table (summary.csv's rows), the
# paper's claims (their tables for a per_round job with the reinit control, a
# note for a crossed job), the job as the file stores it and the provenance;
# and, rendered in headless Chromium, every image decodes (a probe script in a
# copy of the page counts images with no pixels and script errors; the same
# probe finds the one broken image of a copy made to have one) and the
# screenshot is not blank (not white, with the figures' colours).
. "$(dirname "$0")/lib.sh"
[ -x "$TS" ] || fail "$TS is missing: run make first"
command -v chromium >/dev/null || fail "chromium is not installed (make deps installs it)"
export PYTHONDONTWRITEBYTECODE=1 PYTHONPATH="$TOP/tools/python"

small_data "$W/data"
tiny_job "$W/job.ini" "$W/data"
"$TS" run "$W/job.ini" -o "$W/r.h5" --set prune.controls=random >"$W/run.log" 2>&1 || { cat "$W/run.log"; fail "run"; }
"$TS" run "$W/job.ini" -o "$W/pr.h5" --set sweep.rates= --set sweep.per_round=0.3 --set sweep.rounds=3 \
    --set prune.controls=reinit >"$W/run.log" 2>&1 || { cat "$W/run.log"; fail "run per_round"; }
"$PY" - "$W" <<'PY' || fail "could not mark a trial failed"
import shutil, sys, h5py, numpy as np
shutil.copy(f"{sys.argv[1]}/r.h5", f"{sys.argv[1]}/failed.h5")
with h5py.File(f"{sys.argv[1]}/failed.h5", "r+") as f:
    f["trials/status"][3] = 2
    f["trials/error"][3] = np.bytes_("diverged: loss is NaN at iteration 40")
PY
for n in failed pr; do
    "$PY" -m ticketsweep.report "$W/$n.h5" -o "$W/rep_$n" --format html,png >"$W/$n.md" 2>"$W/$n.err" ||
        { cat "$W/$n.err"; fail "lth_report --format html,png on $n.h5"; }
    for f in report.html summary.csv captions.md accuracy.png early_stop.png curves.png; do
        [ -s "$W/rep_$n/$f" ] || fail "$n: no $f"
    done
done

# --- the page's contents, read as text ---
"$PY" - "$W" <<'PY' || fail "report.html contents"
import csv, html, re, sys
from html.parser import HTMLParser
import h5py

w = sys.argv[1]
errors = []


def check(ok, msg):
    if not ok:
        errors.append(msg)


class Page(HTMLParser):
    """The page's tags with their attributes, and its text."""
    def __init__(self):
        super().__init__()
        self.tags, self.text = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


for name in ("failed", "pr"):
    raw = open(f"{w}/rep_{name}/report.html", encoding="utf-8").read()
    p = Page()
    p.feed(raw)
    text = "".join(p.text)
    tags = [t for t, _ in p.tags]
    check("script" not in tags and "link" not in tags and "iframe" not in tags,
          f"{name}: the page has script, link or iframe tags")
    check("url(" not in raw and "@import" not in raw, f"{name}: the style loads something")
    for t, a in p.tags:
        for k in ("src", "href"):
            v = a.get(k)
            check(v is None or v.startswith("data:image/png;base64,") or v.startswith("#"),
                  f"{name}: <{t} {k}={v[:40] if v else v!r}> points out of the page")
    imgs = [a for t, a in p.tags if t == "img"]
    check(len(imgs) == 3, f"{name}: {len(imgs)} images, want the 3 figures")
    check(tags.count("figcaption") == 3, f"{name}: not a caption per figure")
    for h in ("Status", "Figures", "Summary", "The paper's claims", "The job", "Provenance"):
        check(re.search(rf"<h2[^>]*>{re.escape(html.escape(h, quote=False))}</h2>", raw) is not None,
              f"{name}: no section {h!r}")
    f = h5py.File(f"{w}/{name}.h5", "r")
    job = f.attrs["config"]
    job = job.decode() if isinstance(job, bytes) else job
    check(job.strip() in text, f"{name}: the job is not the file's")
    sv = f.attrs["software_version"]
    check((sv.decode() if isinstance(sv, bytes) else sv) in text, f"{name}: no software_version")
    st = f["trials/status"][:]
    check(f"{len(st)} trials: {(st == 1).sum()} done, {(st == 2).sum()} failed, {(st == 0).sum()} pending"
          in text, f"{name}: the status counts")
    check(f"{len(f['nodes/status'])} trainings:" in text, f"{name}: the trainings' counts")
    cpu = f["nodes/cpu"][0]
    check((cpu.decode() if isinstance(cpu, bytes) else cpu) in text, f"{name}: the provenance's CPU")
    rows = list(csv.reader(open(f"{w}/rep_{name}/summary.csv")))
    summary = raw.split('<h2 id="summary">')[1].split("<h2")[0]
    check(summary.count("<tr>") == len(rows), f"{name}: {summary.count('<tr>')} table rows, "
          f"summary.csv has {len(rows)} lines")
    check(all(f"<td>{c}</td>" in summary for c in rows[1][1:] if c), f"{name}: summary row 1 differs")
    claims = raw.split('<h2 id="claims">')[1].split("<h2")[0]
    if name == "failed":
        check("diverged: loss is NaN at iteration 40" in text, "failed: the failed trial's error")
        check("is not one" in claims and "<table>" not in claims, "failed: claims of a crossed job")
    else:
        check("lenet_claims" in claims and "4. ticket against reinit" in claims and
              claims.count("<table>") == 2, "pr: the claim tables (lenet_claims) are not there")
for e in errors:
    print("FAIL:", e)
sys.exit(1 if errors else 0)
PY

# --- rendered: every image decodes, no script error, not blank ---
# probe PAGE OUT: a copy of PAGE with a first script that records errors and,
# on load, writes "images=N broken=B errors=E" into the DOM Chromium dumps.
probe() {
    sed 's|<head>|<head><script>window.__e=[];addEventListener("error",function(e){__e.push(String(e.message\|\|(e.target\&\&e.target.tagName)))},true);addEventListener("load",function(){var i=[].slice.call(document.images),b=i.filter(function(x){return !x.complete\|\|x.naturalWidth===0}).length,p=document.createElement("pre");p.id="probe";p.textContent="images="+i.length+" broken="+b+" errors="+__e.length+" "+__e.join(";");document.body.appendChild(p)})</script>|' "$1" >"$W/probe.html"
    chromium --headless --no-sandbox --disable-gpu --user-data-dir="$W/chrome" --virtual-time-budget=10000 --dump-dom \
        "file://$W/probe.html" 2>"$W/chromium.err" | sed -n 's|.*<pre id="probe">\([^<]*\)</pre>.*|\1|p' >"$2"
}
for n in failed pr; do
    probe "$W/rep_$n/report.html" "$W/probe_$n"
    [ "$(cat "$W/probe_$n")" = "images=3 broken=0 errors=0 " ] ||
        { tail -n 5 "$W/chromium.err"; fail "$n: in Chromium: '$(cat "$W/probe_$n")', want 3 images, none broken, no error"; }
done
# the probe sees a broken image: the second figure's data not a PNG
"$PY" - "$W/rep_pr/report.html" "$W/broken.html" <<'PY' || fail "could not break an image"
import base64, re, sys
raw = open(sys.argv[1]).read()
uris = re.findall(r'src="(data:image/png;base64,[^"]+)"', raw)
bad = "data:image/png;base64," + base64.b64encode(b"not a PNG: " + bytes(100)).decode()
open(sys.argv[2], "w").write(raw.replace(uris[1], bad))
PY
probe "$W/broken.html" "$W/probe_broken"
case "$(cat "$W/probe_broken")" in
    "images=3 broken=1 errors=1 IMG") ;;
    *) fail "the probe does not see the broken image: '$(cat "$W/probe_broken")'" ;;
esac

chromium --headless --no-sandbox --disable-gpu --user-data-dir="$W/chrome" --hide-scrollbars --window-size=1000,2400 \
    --screenshot="$W/shot.png" "file://$W/rep_pr/report.html" >"$W/shot.log" 2>&1 ||
    { tail -n 5 "$W/shot.log"; fail "chromium --screenshot"; }
"$PY" - "$W/shot.png" <<'PY' || fail "the screenshot"
import sys
import matplotlib.image as mpimg
import numpy as np
img = mpimg.imread(sys.argv[1])[:, :, :3]
h, w = img.shape[:2]
assert (h, w) == (2400, 1000), f"screenshot {w}x{h}, want 1000x2400"
ink = np.any(img < 0.9, axis=2).mean()
assert ink > 0.03, f"the screenshot is blank: {ink:.4f} of its pixels are not white"
blue = np.all(np.abs(img - np.array([31, 119, 180]) / 255) < 0.08, axis=2).sum()
assert blue > 200, f"only {blue} pixels of the ticket's blue (tab:blue): no figure drawn"
colors = len(np.unique((img * 255).astype(np.uint8).reshape(-1, 3), axis=0))
assert colors > 100, f"{colors} colours: text alone, no figure"
print(f"screenshot: {ink:.3f} ink, {blue} blue pixels, {colors} colours")
PY
echo "html report: ok"
