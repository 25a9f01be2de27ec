"""Drive a program through a real pseudo-terminal, for host/tests/repl_pty.rs.

Usage: python3 drive.py PROGRAM [ARG...] < steps.json

The steps are a JSON list of ["send", text] (bytes written to the terminal
as typed or pasted), ["expect", text] (wait up to 20 s until the screen
output so far contains text, counted from the last expect) and ["wait",
seconds]. The program runs as the session leader with the pty as its
controlling terminal (so ^C is a real SIGINT while it is not in raw mode).
Prints the whole output; exits 1 with a message if an expectation times out,
then the program's exit status as "exit: N" on the last line.
"""

import json
import os
import pty
import select
import sys
import time

steps = json.load(sys.stdin)
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])

seen = b""
mark = 0


def pump(timeout):
    global seen
    r, _, _ = select.select([fd], [], [], timeout)
    if r:
        try:
            data = os.read(fd, 65536)
        except OSError:
            return False
        if not data:
            return False
        seen += data
    return True


ok = True
for kind, arg in steps:
    if kind == "send":
        os.write(fd, arg.encode())
    elif kind == "wait":
        end = time.time() + arg
        while time.time() < end and pump(0.05):
            pass
    elif kind == "expect":
        end = time.time() + 20
        want = arg.encode()
        while want not in seen[mark:] and time.time() < end:
            if not pump(0.05):
                break
        if want not in seen[mark:]:
            print("TIMEOUT waiting for %r" % arg)
            ok = False
            break
        mark = seen.index(want, mark) + len(want)
if not ok:
    os.kill(pid, 9)
end = time.time() + 20
status = None
while time.time() < end:
    pump(0.05)
    done, st = os.waitpid(pid, os.WNOHANG)
    if done:
        status = os.waitstatus_to_exitcode(st)
        break
if status is None:
    print("TIMEOUT waiting for the program to exit")
    ok = False
    os.kill(pid, 9)
    os.waitpid(pid, 0)
end = time.time() + 2
while time.time() < end and pump(0.05):
    pass
sys.stdout.write(seen.decode("utf-8", "replace"))
print("\nexit: %s" % status)
sys.exit(0 if ok else 1)
