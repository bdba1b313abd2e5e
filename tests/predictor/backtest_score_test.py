#!/usr/bin/env python3
"""The backtest's own summary equals tools/score.py's on the same forecasts.

Runs `oomcast-predictor backtest --openmetrics data/sample/scenarios.om.gz --truth
data/sample/truth.json --records R --summary-json` and `score.py truth R --json` (and the text
forms, `--by-family`), and checks every figure is identical (floats bit for bit) and the text is
line for line the same. score.py is the shared scorer outside the repository: found at
$OOMCAST_SCORE_PY, else ../shared/tools/score.py or ../../shared/tools/score.py from the source
tree; SKIPPED (77) when absent. Takes about 2 s.

usage: backtest_score_test.py PREDICTOR SOURCE_DIR"""

import json
import os
import subprocess
import sys
import tempfile


def find_score(source):
    env = os.environ.get("OOMCAST_SCORE_PY")
    candidates = [env] if env else []
    candidates += [os.path.join(source, "..", "shared", "tools", "score.py"),
                   os.path.join(source, "..", "..", "shared", "tools", "score.py")]
    for c in candidates:
        if c and os.path.exists(c):
            return os.path.abspath(c)
    return None


def main():
    predictor, source = sys.argv[1], sys.argv[2]
    score = find_score(source)
    if score is None:
        print("SKIPPED: tools/score.py not found (set OOMCAST_SCORE_PY)")
        return 77
    om = os.path.join(source, "data", "sample", "scenarios.om.gz")
    truth = os.path.join(source, "data", "sample", "truth.json")
    failures = []
    with tempfile.TemporaryDirectory(prefix="oomcast-score-") as d:
        records = os.path.join(d, "records.jsonl")
        own = subprocess.run([predictor, "backtest", "--openmetrics", om, "--truth", truth,
                              "--records", records, "--summary-json"],
                             capture_output=True, text=True, check=True).stdout
        own = json.loads(own.strip().splitlines()[-1])
        ref = json.loads(subprocess.run([sys.executable, score, truth, records, "--json"],
                                        capture_output=True, text=True, check=True).stdout)
        for k, v in ref.items():
            if k not in own:
                failures.append("backtest summary lacks %s" % k)
            elif own[k] != v:
                failures.append("%s: backtest %r, score.py %r" % (k, own[k], v))
        if ref.get("episodes_predictable", 0) == 0 or ref.get("forecast_points", 0) == 0:
            failures.append("the sample scored nothing: %r" % ref)
        own_text = subprocess.run([predictor, "backtest", "--openmetrics", om, "--truth", truth],
                                  capture_output=True, text=True, check=True).stdout
        ref_text = subprocess.run([sys.executable, score, truth, records, "--by-family"],
                                  capture_output=True, text=True, check=True).stdout
        if own_text != ref_text:
            failures.append("text summaries differ:\n--- backtest\n%s--- score.py\n%s" %
                            (own_text, ref_text))
    for f in failures:
        print("FAIL:", f)
    if not failures:
        print("ok: backtest summary == score.py on data/sample (%d figures): %s" %
              (len(ref), json.dumps(ref)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
