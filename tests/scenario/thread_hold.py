#!/usr/bin/env python3
"""thread_hold.py PID NAME RELEASE_FILE [MAX_SECONDS]

Stops one thread of process PID (the one whose comm is NAME, e.g.
"worker 0") while every other thread runs on, until RELEASE_FILE exists
or MAX_SECONDS (default 10) pass; then lets it go.  Prints "held TID"
once the thread is stopped, "released" at the end.

PTRACE_SEIZE + PTRACE_INTERRUPT stop only the tracee thread (PTRACE_ATTACH
would send SIGSTOP, which stops the whole process).  Used to make a race
between the proxy's main thread and a worker happen on purpose: the main
thread handles reloads while the worker cannot take them.
"""
import ctypes
import os
import sys
import time

PTRACE_DETACH = 17
PTRACE_SEIZE = 0x4206
PTRACE_INTERRUPT = 0x4207
WALL = 0x40000000

libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
libc.ptrace.restype = ctypes.c_long


def ptrace(req, tid):
    if libc.ptrace(req, tid, None, None) != 0:
        e = ctypes.get_errno()
        sys.exit(f"thread_hold: ptrace({req:#x}, {tid}): {os.strerror(e)}")


def find_thread(pid, name):
    for tid in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{tid}/comm") as f:
            if f.read().strip() == name:
                return int(tid)
    sys.exit(f"thread_hold: process {pid} has no thread named {name!r}")


def main():
    pid, name, release = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    limit = float(sys.argv[4]) if len(sys.argv) > 4 else 10.0
    tid = find_thread(pid, name)
    ptrace(PTRACE_SEIZE, tid)
    ptrace(PTRACE_INTERRUPT, tid)
    os.waitpid(tid, WALL)
    print(f"held {tid}", flush=True)
    end = time.monotonic() + limit
    while not os.path.exists(release) and time.monotonic() < end:
        time.sleep(0.02)
    ptrace(PTRACE_DETACH, tid)
    print("released", flush=True)


main()
