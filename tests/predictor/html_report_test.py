#!/usr/bin/env python3
"""The backtest's HTML report renders in a real headless browser (Debian's chromium): the page is
self-contained (no network reference), the script runs, every container's plot is drawn (memory,
limit and trend paths with points, alarm rectangles and kill lines where the data has them), and
containers come worst first. SKIPPED (77) without chromium. Takes about 5 s.

usage: html_report_test.py PREDICTOR SOURCE_DIR"""

import html.parser
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile


class Dom(html.parser.HTMLParser):
    """Collects the plots (svg.plot and what is inside) and the cards' stats lines."""

    def __init__(self):
        super().__init__()
        self.plots = []
        self.stats = []
        self.body = {}
        self._in_stats = False
        self._svg = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        cls = a.get("class", "")
        if tag == "body":
            self.body = a
        if tag == "svg" and "plot" in cls.split():
            self._svg = {"attrs": a, "paths": {}, "alarms": 0, "kills": 0}
            self.plots.append(self._svg)
        elif self._svg is not None:
            if tag == "path":
                self._svg["paths"][cls] = a.get("d", "")
            elif tag == "rect" and cls == "alarm":
                self._svg["alarms"] += 1
            elif tag == "line" and cls == "kill":
                self._svg["kills"] += 1
        if tag == "div" and cls == "stats":
            self._in_stats = True
            self.stats.append("")

    def handle_endtag(self, tag):
        if tag == "svg":
            self._svg = None
        if tag == "div":
            self._in_stats = False

    def handle_data(self, data):
        if self._in_stats:
            self.stats[-1] += data


def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        p = shutil.which(name)
        if p:
            return p
    return None


def main():
    predictor, source = sys.argv[1], sys.argv[2]
    browser = chromium()
    if browser is None:
        print("SKIPPED: chromium not installed (apt-get install chromium)")
        return 77
    om = os.path.join(source, "data", "sample", "scenarios.om.gz")
    truth_path = os.path.join(source, "data", "sample", "truth.json")
    truth = json.load(open(truth_path))
    failures = []
    with tempfile.TemporaryDirectory(prefix="oomcast-report-") as d:
        page = os.path.join(d, "report.html")
        p = subprocess.run([predictor, "backtest", "--openmetrics", om, "--truth", truth_path,
                            "--memory-metric", "rss", "--report", page, "--summary-json"],
                           capture_output=True, text=True)
        if p.returncode != 0:
            print("FAIL: backtest --report exited %d: %s" % (p.returncode, p.stderr[-500:]))
            return 1
        summary = json.loads(p.stdout.strip().splitlines()[-1])
        text = open(page, encoding="utf-8").read()
        # Self-contained: nothing fetched (the SVG namespace URI is a name, not a request).
        refs = [m for m in re.findall(r'(?:src|href)\s*=\s*["\']?([^"\' >]+)', text)]
        net = re.findall(r'https?://(?!www\.w3\.org/2000/svg)[^\s"\'<>]+', text)
        if refs or net or "<link" in text:
            failures.append("page references outside resources: %s %s" % (refs[:3], net[:3]))
        if "%.3f" % summary["recall_15m"] not in text:
            failures.append("summary recall@15m %.3f not on the page" % summary["recall_15m"])
        profile = os.path.join(d, "profile")
        cmd = [browser, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
               "--disable-extensions", "--user-data-dir=" + profile, "--virtual-time-budget=10000"]
        r = subprocess.run(cmd + ["--dump-dom", "file://" + page], capture_output=True,
                           text=True, timeout=120)
        if r.returncode != 0 or "<svg" not in r.stdout:
            print("FAIL: chromium --dump-dom exited %d: %s" % (r.returncode, r.stderr[-800:]))
            return 1
        dom = Dom()
        dom.feed(r.stdout)
        n = len(truth)
        if len(dom.plots) != n:
            failures.append("%d plots for %d containers" % (len(dom.plots), n))
        if dom.body.get("data-plots-drawn") != str(n):
            failures.append("the script did not finish: body data-plots-drawn=%r" %
                            dom.body.get("data-plots-drawn"))
        kills_total = alarms_total = 0
        for plot in dom.plots:
            name = plot["attrs"].get("data-container")
            if plot["attrs"].get("data-drawn") != "true":
                failures.append("%s: not drawn" % name)
            for cls in ("memory", "limit", "trend"):
                dpath = plot["paths"].get(cls, "")
                if len(re.findall(r"[ML]", dpath)) < 2:
                    failures.append("%s: %s path empty (%r)" % (name, cls, dpath[:40]))
            kills_total += plot["kills"]
            alarms_total += plot["alarms"]
        want_kills = sum(len(s["oom_times"]) for s in truth)
        if kills_total != want_kills:
            failures.append("%d kill lines for %d kills" % (kills_total, want_kills))
        if alarms_total == 0:
            failures.append("no alarm period drawn")
        # Worst first: missed kills never increase down the page.
        missed = [int(re.search(r"(\d+) missed", s).group(1)) for s in dom.stats]
        if missed != sorted(missed, reverse=True) or len(missed) != n:
            failures.append("cards not sorted by missed kills: %s" % missed)
        shot = os.path.join(d, "shot.png")
        s = subprocess.run(cmd + ["--window-size=1200,1600", "--screenshot=" + shot,
                                  "file://" + page], capture_output=True, text=True, timeout=120)
        if s.returncode != 0 or not os.path.exists(shot) or os.path.getsize(shot) < 10000:
            failures.append("no screenshot (%d): %s" % (s.returncode, s.stderr[-300:]))
        keep = os.environ.get("OOMCAST_REPORT_KEEP")
        if keep:
            shutil.copy(page, os.path.join(keep, "report.html"))
            shutil.copy(shot, os.path.join(keep, "report.png"))
    for f in failures:
        print("FAIL:", f)
    if not failures:
        print("ok: %d plots drawn by chromium (%d kill lines, %d alarm periods), worst first" %
              (len(dom.plots), kills_total, alarms_total))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
