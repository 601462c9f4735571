#!/usr/bin/env python3
"""Checks `shmkit list --json` and `shmkit info --json` against the schema in
docs/cli.md, on segments made for the purpose and on whatever else the
machine holds (`list --all`). Usage: check_json.py PATH_TO_SHMKIT
"""
import json
import os
import random
import re
import subprocess
import sys

tool = sys.argv[1]
base = "cj%x%04x." % (os.getpid() & 0xFFFFFF, random.randrange(0x10000))
problems = []


def run(*args, expect=0):
    result = subprocess.run([tool, *args], capture_output=True, text=True, timeout=60)
    if result.returncode != expect:
        problems.append(f"shmkit {' '.join(args)}: exit {result.returncode}, wanted {expect}: "
                        f"{result.stderr.strip()}")
    return result.stdout


def is_uint(value):
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


PROCESS = {"pid": is_uint, "alive": lambda v: isinstance(v, bool)}
SYSV = {
    "key": lambda v: isinstance(v, str) and re.fullmatch(r"0x[0-9a-f]{8}", v) is not None,
    "shmid": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "nattch": is_uint,
    "cpid": is_uint,
    "lpid": is_uint,
    "dest": lambda v: isinstance(v, bool),
}
KINDS = {"raw", "segment", "mutex", "event", "semaphore", "ring", "queue", "channel", "server",
         "unknown"}
STATES = {"none", "unreadable", "initializing", "ready", "removing", "incompatible"}


def exactly(obj, fields, where):
    if not isinstance(obj, dict):
        problems.append(f"{where}: not an object")
        return
    if set(obj) != set(fields):
        problems.append(f"{where}: keys {sorted(obj)} instead of {sorted(fields)}")
        return
    for key, check in fields.items():
        if not check(obj[key]):
            problems.append(f"{where}.{key}: bad value {obj[key]!r}")


def nullable(check):
    return lambda v: v is None or check(v)


def processes(v):
    if not isinstance(v, list):
        return False
    for i, p in enumerate(v):
        exactly(p, PROCESS, f"process[{i}]")
    return True


def process(v):
    exactly(v, PROCESS, "process")
    return True


def sysv(v):
    exactly(v, SYSV, "sysv")
    return True


SEGMENT = {
    "name": nullable(lambda v: isinstance(v, str) and v != ""),
    "backend": lambda v: v in ("posix", "sysv", "win32"),
    "scope": nullable(lambda v: v in ("local", "global")),
    "kind": lambda v: v in KINDS,
    "state": lambda v: v in STATES,
    "size": is_uint,
    "os_size": is_uint,
    "creator": nullable(process),
    "attached": processes,
    "uncounted_attachers": is_uint,
    "created_unix_ns": nullable(is_uint),
    "created": nullable(lambda v: isinstance(v, str) and
                        re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", v) is not None),
    "stale": lambda v: isinstance(v, bool),
    "owner_uid": nullable(is_uint),
    "permissions": nullable(lambda v: isinstance(v, str) and re.fullmatch(r"0[0-7]{3}", v)),
    "mapped_by": nullable(lambda v: isinstance(v, list) and all(is_uint(p) for p in v)),
    "sysv": nullable(sysv),
}


def document(text, where):
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        problems.append(f"{where}: not JSON: {e}")
        return []
    exactly(doc, {"version": lambda v: v == 1, "segments": lambda v: isinstance(v, list)}, where)
    segments = doc.get("segments", []) if isinstance(doc, dict) else []
    for i, segment in enumerate(segments):
        exactly(segment, SEGMENT, f"{where}.segments[{i}]")
    return segments


try:
    run("create", base + "a", "4096")
    run("create", base + "b", "100", "--backend", "sysv")

    mine = document(run("list", "--json", "--prefix", base), "list")
    names = [(s.get("name"), s.get("backend")) for s in mine]
    if names != [(base + "a", "posix"), (base + "b", "sysv")]:
        problems.append(f"list --prefix found {names}")
    for s in mine:
        if s.get("kind") != "segment" or s.get("state") != "ready" or s.get("stale") is not True:
            problems.append(f"{s.get('name')}: expected a stale ready segment, got {s}")
    sizes = {s.get("name"): s.get("size") for s in mine}
    if sizes != {base + "a": 4096, base + "b": 100}:
        problems.append(f"sizes: {sizes}")

    info = document(run("info", base + "b", "--json"), "info")
    if len(info) != 1 or info[0].get("sysv") is None or info[0].get("creator") is None:
        problems.append(f"info of a sysv segment: {info}")

    # Everything else on this machine, shmkit's or not, must fit the schema too.
    document(run("list", "--all", "--json"), "list --all")
    document(run("list", "--json", "--prefix", base + "none"), "empty list")
finally:
    subprocess.run([tool, "rm", base + "a", base + "b"], capture_output=True)

for problem in problems:
    print(problem)
print(f"{'FAILED' if problems else 'ok'}: {len(problems)} problem(s)")
sys.exit(1 if problems else 0)
