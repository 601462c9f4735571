#!/usr/bin/env python3
"""Checks `shmkit list --json` and `shmkit info --json` against the schema in
docs/cli.md, on segments made for the purpose, on files in /dev/shm named
with any bytes (as any local user can name them), a symbolic link and a
blank object, and on whatever else the machine holds (`list --all`).
Usage: check_json.py PATH_TO_SHMKIT
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
planted = []


def run(*args, expect=0):
    result = subprocess.run([tool, *args], capture_output=True, timeout=60)
    if result.returncode != expect:
        problems.append(f"shmkit {' '.join(args)}: exit {result.returncode}, wanted {expect}: "
                        f"{result.stderr.strip()!r}")
    # Whatever the names hold, the output is UTF-8 (a JSON text must be).
    try:
        return result.stdout.decode("utf-8")
    except UnicodeDecodeError as e:
        problems.append(f"shmkit {' '.join(args)}: output is not UTF-8: {e}")
        return result.stdout.decode("utf-8", "replace")


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
         "unknown", "symlink", "special", "topic", "topic_pool", "managed"}
STATES = {"none", "unreadable", "initializing", "ready", "removing", "incompatible", "blank"}


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


TOPIC_PUBLISHER = {"slot": is_uint, "pid": is_uint, "alive": lambda v: isinstance(v, bool),
                   "generation": is_uint, "loans": is_uint}
TOPIC_SUBSCRIBER = {"slot": is_uint, "pid": is_uint, "alive": lambda v: isinstance(v, bool),
                    "generation": is_uint, "queued": is_uint, "queue_depth": is_uint,
                    "overflow": lambda v: v in ("drop_oldest", "block_publisher"),
                    "dropped": is_uint, "held": is_uint}


def listed(fields, name):
    def check(v):
        if not isinstance(v, list):
            return False
        for i, item in enumerate(v):
            exactly(item, fields, f"{name}[{i}]")
        return True
    return check


TOPIC = {
    "sample_size": is_uint, "sample_count": is_uint, "max_publishers": is_uint,
    "max_subscribers": is_uint, "max_queue_depth": is_uint, "history": is_uint,
    "type_id": is_uint, "stride": is_uint, "pool_bytes": is_uint, "published": is_uint,
    "free_samples": is_uint, "samples_in_use": is_uint, "on_loan": is_uint, "in_history": is_uint,
    "lock": nullable(lambda v: exactly(v, PROCESS, "topic.lock") or True),
    "publishers": listed(TOPIC_PUBLISHER, "topic.publishers"),
    "subscribers": listed(TOPIC_SUBSCRIBER, "topic.subscribers"),
}


def topic(v):
    exactly(v, TOPIC, "topic")
    return True


SEGMENT = {
    "name": nullable(lambda v: isinstance(v, str) and v != ""),
    "name_hex": nullable(lambda v: isinstance(v, str) and re.fullmatch(r"(?:[0-9a-f]{2})+", v)),
    "backend": lambda v: v in ("posix", "sysv", "win32"),
    "scope": nullable(lambda v: v in ("local", "global")),
    "kind": lambda v: v in KINDS,
    "state": lambda v: v in STATES,
    "size": nullable(is_uint),
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
    "topic": nullable(topic),
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

    # Names with any bytes: valid JSON, and every name comes back exactly,
    # from `name` or, when it is not UTF-8, from `name_hex`.
    odd_base = base + "odd."
    odd = [b"\xff\xfe", b"esc\x1b[31mRED", b"new\nline", b"caf\xc3\xa9", b"c1\xc2\x9b",
           b"quote\"back\\slash", b"sp ace", b"\xed\xa0\x80surrogate", b"\xc0\xafoverlong"]
    for suffix in odd:
        path = b"/dev/shm/" + odd_base.encode() + suffix
        planted.append(path)
        with open(path, "xb") as f:
            f.write(b"data")
    link = b"/dev/shm/" + odd_base.encode() + b"link"
    planted.append(link)
    os.symlink(b"/etc/passwd", link)
    blank = b"/dev/shm/" + odd_base.encode() + b"blank"
    planted.append(blank)
    with open(blank, "xb") as f:
        f.write(bytes(4096))
    found = document(run("list", "--all", "--json", "--prefix", odd_base), "list --all odd names")
    back = set()
    for s in found:
        if s.get("name_hex") is not None:
            back.add(bytes.fromhex(s["name_hex"]))
            if "\ufffd" not in s.get("name", ""):
                problems.append(f"name_hex given, but name {s.get('name')!r} shows no U+FFFD")
        elif isinstance(s.get("name"), str):
            back.add(s["name"].encode("utf-8"))
    wanted = {odd_base.encode() + x for x in odd + [b"link", b"blank"]}
    if back != wanted:
        problems.append(f"names do not come back: {sorted(back ^ wanted)!r}")
    kinds = {s.get("name"): (s.get("kind"), s.get("state"), s.get("size")) for s in found}
    if kinds.get(odd_base + "link") != ("symlink", "none", None):
        problems.append(f"the link: {kinds.get(odd_base + 'link')}")
    if kinds.get(odd_base + "blank") != ("raw", "blank", 4096):
        problems.append(f"the blank object: {kinds.get(odd_base + 'blank')}")
    table = run("list", "--all", "--prefix", odd_base)
    if any((ord(c) < 0x20 and c != "\n") or 0x7f <= ord(c) <= 0x9f for c in table):
        problems.append(f"the table holds control characters: {table!r}")
    if table.count("\n") != 1 + len(wanted):
        problems.append(f"the table has {table.count(chr(10))} lines for {len(wanted)} names")

    # Everything else on this machine, shmkit's or not, must fit the schema too.
    document(run("list", "--all", "--json"), "list --all")
    document(run("list", "--json", "--prefix", base + "none"), "empty list")
finally:
    subprocess.run([tool, "rm", base + "a", base + "b"], capture_output=True)
    for path in planted:
        try:
            os.unlink(path)
        except OSError:
            pass

for problem in problems:
    print(problem)
print(f"{'FAILED' if problems else 'ok'}: {len(problems)} problem(s)")
sys.exit(1 if problems else 0)
