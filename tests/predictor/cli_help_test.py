#!/usr/bin/env python3
"""Every oomcast-predictor command answers --help (and -h, and `help CMD`) with its usage on
stdout and exit 0, before any flag validation; a bad flag is still exit 2. Takes < 1 s.

usage: cli_help_test.py PREDICTOR"""

import subprocess
import sys

COMMANDS = {
    "once": ["once --prometheus URL", "--openmetrics FILE", "--namespace NS"],
    "backtest": ["backtest (--openmetrics FILE", "--report FILE.html", "--namespace NS"],
    "serve": ["serve --prometheus URL", "--listen-address"],
    "simulate": ["simulate --out-openmetrics", "--seed N"],
    "version": ["oomcast-predictor version"],
}


def run(pred, *args):
    p = subprocess.run([pred] + list(args), capture_output=True, text=True, timeout=30)
    return p.returncode, p.stdout, p.stderr


def main():
    pred = sys.argv[1]
    failures = []
    for cmd, needles in COMMANDS.items():
        # Also with other (even incomplete) flags around it: help wins.
        for args in ([cmd, "--help"], [cmd, "-h"], ["help", cmd], [cmd, "--openmetrics", "x",
                                                                   "--help"]):
            code, out, err = run(pred, *args)
            missing = [n for n in needles if n not in out]
            if code != 0 or missing or not out.startswith("oomcast-predictor"):
                failures.append("%s: exit %d, missing %s, stderr %r" %
                                (" ".join(args), code, missing, err[-200:]))
    code, out, err = run(pred, "help")
    if code != 0 or any("oomcast-predictor " + c not in out for c in COMMANDS) or "--prometheus URL" not in out:
        failures.append("help: exit %d" % code)
    code, out, err = run(pred, "backtest", "--no-such-flag", "1")
    if code != 2 or "unknown flag --no-such-flag" not in err:
        failures.append("a bad flag: exit %d, %r" % (code, err[-200:]))
    for f in failures:
        print("FAIL:", f)
    if not failures:
        print("ok: --help of %s" % ", ".join(COMMANDS))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
