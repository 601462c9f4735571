#!/usr/bin/env python3
"""Checks that docs/api.md's table and tests/api/api_table.cpp name the same calls.

The table lists, per class and operation, each form's member (`try_lock_for(d)`)
and whether every form has an error_code twin (`ec`). The program calls each
one qualified with its class, so that these tokens can be read from it:
`mutex.NamedMutex::try_lock_for(1ms)`, `NamedMutex::create(name, {}, ec)`; a
call whose last argument is `ec` is the twin. Both must hold the same set of
(class, member, twin) entries: a table row without a call, or a call the
table does not list, fails with the entry named.

Usage: check_api_table.py docs/api.md tests/api/api_table.cpp
"""
import re
import sys


def table_entries(markdown):
    entries, header = set(), None
    for line in markdown.splitlines():
        if not line.startswith("|"):
            header = None
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if header is None:
            header = cells
            continue
        if set(line) <= set("|-: "):
            continue
        if header[:2] != ["Class", "Operation"]:
            continue
        row = dict(zip(header, cells))
        klass = re.sub(r"<[^>]*>", "", row["Class"].strip("`"))
        twin = row["twin"].strip()
        for column in header[2:6]:
            for span in re.findall(r"`([^`]+)`", row[column]):
                member = re.match(r"\s*([a-z_][A-Za-z0-9_]*)\s*(?:<[^<>()]*>)?\s*\(", span)
                if not member:
                    continue
                entries.add((klass, member.group(1), False))
                if twin == "ec":
                    entries.add((klass, member.group(1), True))
    return entries


def strip_comments(code):
    code = re.sub(r"/\*.*?\*/", "", code, flags=re.S)
    return re.sub(r"//[^\n]*", "", code)


def arguments(code, open_paren):
    """The top-level arguments of the call whose '(' is at open_paren."""
    depth, start, args = 0, open_paren + 1, []
    for i in range(open_paren, len(code)):
        c = code[i]
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
            if depth == 0:
                args.append(code[start:i].strip())
                return [a for a in args if a]
        elif c == "," and depth == 1:
            args.append(code[start:i].strip())
            start = i + 1
    raise SystemExit(f"unbalanced call at offset {open_paren}")


def program_entries(code, classes):
    code = strip_comments(code)
    entries = set()
    for m in re.finditer(r"\b([A-Z][A-Za-z0-9_]*)(?:<[^<>()]*>)?::([a-z_][A-Za-z0-9_]*)(?:<[^<>()]*>)?\s*\(", code):
        if m.group(1) not in classes:
            continue
        args = arguments(code, m.end() - 1)
        entries.add((m.group(1), m.group(2), bool(args) and args[-1] == "ec"))
    return entries


def show(entry):
    klass, member, twin = entry
    return f"{klass}::{member}" + (" (ec twin)" if twin else "")


def main():
    table_path, program_path = sys.argv[1], sys.argv[2]
    table = table_entries(open(table_path, encoding="utf-8").read())
    if not table:
        print(f"{table_path}: no API table found (a table whose header starts | Class | Operation |)")
        return 1
    classes = {klass for klass, _, _ in table}
    program = program_entries(open(program_path, encoding="utf-8").read(), classes)
    problems = [f"{table_path} lists {show(e)} but {program_path} never calls it"
                for e in sorted(table - program)]
    problems += [f"{program_path} calls {show(e)} but {table_path} does not list it"
                 for e in sorted(program - table)]
    for problem in problems:
        print(problem)
    print(f"api table: {len(table)} entries, {len(problems)} mismatches")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
