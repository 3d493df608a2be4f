"""The training run of the profile-guided build (scripts/pgo-train.sh) through
the real binary: when it breaks, scripts/build.sh only warns and builds without
a profile, so a broken training would otherwise go unnoticed."""

import os
import re
import shutil
import subprocess
import unittest

from harness import RAMPART

ROOT = os.environ.get("RAMPART_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "../.."))
SCRIPT = os.path.join(ROOT, "scripts/pgo-train.sh")


def train(env_extra):
    env = dict(os.environ, **env_extra)
    return subprocess.run(["bash", SCRIPT, RAMPART], capture_output=True, text=True, timeout=300, env=env)


@unittest.skipUnless(shutil.which("wrk"), "wrk is not installed (scripts/install-deps.sh installs it)")
class TrainingTest(unittest.TestCase):
    def check_ran(self, p):
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("pgo-train: waf inspect done", p.stdout)
        # Every load run reports its requests, all answered 200 (the script
        # fails on any other answer): with the rules and without.
        runs = re.findall(r"pgo-train: waf (on|off), (get|post) on (\d+) connection\(s\): (\d+) requests in", p.stdout)
        self.assertEqual([(w, r, c) for w, r, c, _ in runs],
                         [("on", "get", "32"), ("on", "post", "32"), ("on", "get", "1"),
                          ("off", "get", "32"), ("off", "post", "32"), ("off", "get", "1")], p.stdout)
        for run in runs:
            self.assertGreater(int(run[3]), 100, p.stdout)

    def test_trains_with_our_own_rules_without_crs(self):
        p = train({"RAMPART_CRS_DIR": "/nonexistent"})
        self.assertIn("no OWASP CRS found", p.stdout)
        self.check_ran(p)

    def test_trains_with_crs_when_it_is_there(self):
        crs = os.path.join(ROOT, "../shared/crs")
        if not os.path.isdir(os.path.join(crs, "rules")):
            self.skipTest("no ../shared/crs")
        p = train({"RAMPART_CRS_DIR": crs})
        self.assertIn("rules: OWASP CRS in", p.stdout)
        self.check_ran(p)

    def test_a_bad_binary_fails_the_training(self):
        p = subprocess.run(["bash", SCRIPT, "/nonexistent/rampart"], capture_output=True, text=True, timeout=60)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("no binary at /nonexistent/rampart", p.stderr)


if __name__ == "__main__":
    unittest.main()
