#!/usr/bin/env python3
"""Checks the files no compiler reads: workflows, the vcpkg port, CMake presets,
.gitattributes and the install test.

A broken workflow is otherwise only found on GitHub, after the push. Each check
below names a way a job failed, or passed when it should not have, so that it
cannot come back.
"""
import fnmatch
import json
import pathlib
import re
import sys

import yaml

root = pathlib.Path(__file__).resolve().parent.parent
problems = []


def text_of(value):
    """Every string inside a YAML value, joined (for searching a job or step)."""
    if isinstance(value, dict):
        return "\n".join(text_of(v) for v in value.values())
    if isinstance(value, list):
        return "\n".join(text_of(v) for v in value)
    return "" if value is None else str(value)


def uses(step, action):
    return str(step.get("uses", "")).split("@")[0] == action


def shell_of(doc, job, step):
    """The shell a run step runs in, as GitHub picks it."""
    for scope in (step, (job.get("defaults") or {}).get("run") or {},
                  (doc.get("defaults") or {}).get("run") or {}):
        if scope.get("shell"):
            return str(scope["shell"])
    return "pwsh" if str(job.get("runs-on", "")).startswith("windows") else "bash"


def bash_options(shell):
    """The single-letter options and -o options of a custom bash command line."""
    letters, long_options = set(), set()
    words = shell.split()
    for i, word in enumerate(words):
        if word == "-o" and i + 1 < len(words):
            long_options.add(words[i + 1])
        elif word.startswith("-") and not word.startswith("--"):
            letters.update(word[1:])
            if word.endswith("o") and i + 1 < len(words):
                long_options.add(words[i + 1])
    return letters, long_options


def flags_values(text):
    """Values of CMAKE_C_FLAGS / CMAKE_CXX_FLAGS given as -D... in a command line."""
    pattern = r"CMAKE_CX?X?_FLAGS(?::STRING)?=(\"[^\"]*\"|'[^']*'|\S+)"
    return [m.group(1).strip("\"'") for m in re.finditer(pattern, text)]


def check_ubsan_flags(where, value):
    # Without it UBSan prints its finding and the test still passes.
    if re.search(r"-fsanitize=\S*undefined", value) and "-fno-sanitize-recover=all" not in value:
        problems.append(f"{where}: UBSan flags '{value}' lack -fno-sanitize-recover=all")


# --- workflows -------------------------------------------------------------
workflows = sorted((root / ".github" / "workflows").glob("*.yml"))
if not workflows:
    problems.append("no workflow in .github/workflows")
platforms = set()
runs_test_sh = False
for path in workflows:
    doc = yaml.safe_load(path.read_text())
    # YAML 1.1 reads the key `on` as True.
    if "on" not in doc and True not in doc:
        problems.append(f"{path.name}: no trigger ('on')")
    for name, job in (doc.get("jobs") or {}).items():
        where = f"{path.name}: job {name}"
        runs_on = str(job.get("runs-on", ""))
        if not runs_on:
            problems.append(f"{where} has no runs-on")
        platforms.add(runs_on.split("-")[0])
        steps = job.get("steps") or []
        if not steps:
            problems.append(f"{where} has no steps")
        job_text = text_of(job)
        checkout_at = next((i for i, s in enumerate(steps) if uses(s, "actions/checkout")), None)

        bad_shells = set()
        for step in steps:
            if not ("run" in step or "uses" in step):
                problems.append(f"{where} has a step with neither run nor uses")
            run = str(step.get("run", ""))
            for line in run.splitlines():
                if re.search(r"\|\|\s*(true\b|:(\s|$))", line):
                    problems.append(f"{where}: '|| true' hides a failure: {line.strip()}")
            shell = shell_of(doc, job, step)
            if "run" in step and "bash" in shell and shell.split()[0] != "bash":
                letters, long_options = bash_options(shell)
                if "e" not in letters or "pipefail" not in long_options:
                    bad_shells.add(shell)
            if re.search(r"ci/test\.sh", run):
                runs_test_sh = True
        for shell in sorted(bad_shells):
            problems.append(f"{where}: shell '{shell}' lacks -e or -o pipefail: "
                            "a failing command would not fail the step")

        # Windows: bash fails on CRLF scripts, and Git for Windows writes CRLF.
        if runs_on.startswith("windows"):
            bash_shells = [shell_of(doc, job, s) for s in steps if "run" in s]
            if any(re.search(r"msys2|bash", sh) for sh in bash_shells):
                config_at = next((i for i, s in enumerate(steps)
                                  if re.search(r"core\.autocrlf\s+(input|false)", str(s.get("run", "")))),
                                 None)
                if config_at is None or checkout_at is None or config_at > checkout_at:
                    problems.append(f"{where}: no 'git config --global core.autocrlf input' "
                                    "before actions/checkout")
                elif re.search(r"msys2|cygwin", shell_of(doc, job, steps[config_at])):
                    problems.append(f"{where}: core.autocrlf is set in MSYS2/Cygwin's git, "
                                    "not in the Git for Windows that actions/checkout runs")

        # Cygwin: its own tools, and a cygserver that is known to run.
        if any(uses(s, "cygwin/cygwin-install-action") for s in steps):
            packages = " ".join(str((s.get("with") or {}).get("packages", ""))
                                for s in steps if uses(s, "cygwin/cygwin-install-action")).split()
            for tool in ("curl", "wget", "git", "cmake", "ninja"):
                used = any(re.search(rf"(^|[\s;&|(]){tool}\s", str(s.get("run", "")), re.M)
                           for s in steps if "run" in s and not s.get("shell"))
                if used and tool not in packages:
                    problems.append(f"{where}: runs {tool} but does not install Cygwin's "
                                    "(the Windows one would run)")
            if "cygserver" in job_text:
                if "cygrunsrv -Q cygserver" not in job_text:
                    problems.append(f"{where}: starts cygserver but never checks that it runs "
                                    "(cygrunsrv -Q cygserver)")
                if "shmget" not in job_text and "ipcs" not in job_text:
                    problems.append(f"{where}: never checks that SysV IPC works (ipcs or a shmget probe)")

        # Sanitizers on Ubuntu 24.04 need less mmap randomisation, set first.
        sanitized = "-fsanitize" in job_text or re.search(r"ci/test\.sh|--preset[= ]asan", job_text)
        if sanitized and runs_on.startswith("ubuntu"):
            build_at = next((i for i, s in enumerate(steps)
                             if re.search(r"\bci/\S+\.sh|\bcmake\b|\bctest\b", str(s.get("run", "")))),
                            len(steps))
            sysctl_at = next((i for i, s in enumerate(steps)
                              if re.search(r"sysctl\s+(-w\s+)?vm\.mmap_rnd_bits=28", str(s.get("run", "")))),
                             None)
            if sysctl_at is None or sysctl_at > build_at:
                problems.append(f"{where}: sanitizer build without 'sysctl vm.mmap_rnd_bits=28' "
                                "before it (ASan/TSan die at start-up on Ubuntu 24.04)")
        for value in flags_values(job_text):
            check_ubsan_flags(where, value)

for needed in ("ubuntu", "windows", "macos"):
    if needed not in platforms:
        problems.append(f"no workflow job runs on {needed}")
if not runs_test_sh:
    problems.append("no workflow job runs ci/test.sh (the README's test command: ASan, fuzz, soak, Wine)")
text = "\n".join(p.read_text() for p in workflows)
for needed in ("cygwin-install-action", "cygserver", "msvc", "msys2", "tsan"):
    if needed not in text:
        problems.append(f"the workflows have no {needed} job")

# --- presets ---------------------------------------------------------------
presets = json.loads((root / "CMakePresets.json").read_text())
for preset in presets.get("configurePresets", []):
    for key, value in (preset.get("cacheVariables") or {}).items():
        if re.fullmatch(r"CMAKE_CX?X?_FLAGS", key):
            value = value["value"] if isinstance(value, dict) else str(value)
            check_ubsan_flags(f"CMakePresets.json: preset {preset.get('name')}", value)

# --- line endings ----------------------------------------------------------
def attributes_for(path_name, lines):
    """text/eol attributes .gitattributes gives a top-level-less file name (last match wins)."""
    found = {}
    for line in lines:
        words = line.split()
        if not words or words[0].startswith("#"):
            continue
        pattern = words[0]
        if fnmatch.fnmatch(path_name, pattern) or ("/" not in pattern and
                                                   fnmatch.fnmatch(path_name.rsplit("/", 1)[-1], pattern)):
            for attribute in words[1:]:
                if attribute == "binary" or attribute == "-text":
                    found["text"] = "unset"
                elif attribute.startswith("text"):
                    found["text"] = attribute
                elif attribute.startswith("eol="):
                    found["eol"] = attribute[4:]
    return found


attributes_path = root / ".gitattributes"
attribute_lines = attributes_path.read_text().splitlines() if attributes_path.exists() else []
for sample in ("ci/test.sh", "ci/check_repo_files.py"):
    found = attributes_for(sample, attribute_lines)
    if found.get("eol") != "lf" or found.get("text") == "unset":
        problems.append(f".gitattributes does not keep {sample} LF on Windows checkouts "
                        "(want e.g. '*.sh text eol=lf')")

# --- install test ----------------------------------------------------------
# On Windows the consumer linked to the DLL only starts if the DLL's folder is
# on PATH (WINEPATH under Wine): set before the shared consumer runs.
check_install = (root / "tests" / "consumer" / "check_install.cmake").read_text()
shared_run = check_install.find("consumer-d-")
for variable in ("ENV{PATH}", "ENV{WINEPATH}"):
    at = check_install.find(f"set({variable}")
    if at < 0 or shared_run < 0 or at > shared_run:
        problems.append(f"tests/consumer/check_install.cmake: no set({variable} ...) before "
                        "the shared consumer runs (libshmkit.dll not found on Windows)")

# --- vcpkg port ------------------------------------------------------------
port = json.loads((root / "ports" / "shmkit" / "vcpkg.json").read_text())
for key in ("name", "version-semver", "license", "dependencies"):
    if key not in port:
        problems.append(f"ports/shmkit/vcpkg.json lacks {key}")
portfile = (root / "ports" / "shmkit" / "portfile.cmake").read_text()
for call in ("vcpkg_cmake_configure", "vcpkg_cmake_install", "vcpkg_cmake_config_fixup",
             "vcpkg_install_copyright", "debug/include"):
    if call not in portfile:
        problems.append(f"ports/shmkit/portfile.cmake does not use {call}")
if port["version-semver"] not in (root / "CMakeLists.txt").read_text():
    problems.append("the port's version differs from project(VERSION) in CMakeLists.txt")

for problem in problems:
    print(problem)
sys.exit(1 if problems else 0)
