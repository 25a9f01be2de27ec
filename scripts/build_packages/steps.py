"""Named build steps with one log file per package.

Every tool a build runs goes through `Log.run`: its output is appended to the
package's log, and a failure raises `StepFailed` naming the step and the log,
which `__main__` turns into one clear error line.
"""

import subprocess
import sys


class StepFailed(Exception):
    """A build step failed; str() names the step (the log is added by the caller)."""


class Log:
    """The build log of one package (a file), with progress on stderr."""

    def __init__(self, name, path):
        self.name = name
        self.path = path
        self.file = open(path, "w", encoding="utf-8")

    def say(self, msg):
        """Progress line on stderr and in the log."""
        print(f"build-packages: {self.name}: {msg}", file=sys.stderr, flush=True)
        self.note(msg)

    def note(self, msg):
        """A line in the log only."""
        self.file.write(f"== {msg}\n")
        self.file.flush()

    def run(self, step, cmd, **kw):
        """Run `cmd` as step `step`, output into the log; raise StepFailed on failure."""
        self.note(f"[{step}] {' '.join(map(str, cmd))}")
        res = subprocess.run(cmd, stdout=self.file, stderr=subprocess.STDOUT, **kw)
        if res.returncode != 0:
            raise StepFailed(f"step '{step}' failed (exit {res.returncode})")
        return res

    def close(self):
        self.file.close()
