#!/usr/bin/env python3
"""Checks the files no compiler reads: workflows, the vcpkg port, CMake presets.

A broken workflow is otherwise only found on GitHub, after the push.
"""
import json
import pathlib
import sys

import yaml

root = pathlib.Path(__file__).resolve().parent.parent
problems = []

workflows = sorted((root / ".github" / "workflows").glob("*.yml"))
if not workflows:
    problems.append("no workflow in .github/workflows")
platforms = set()
for path in workflows:
    doc = yaml.safe_load(path.read_text())
    # YAML 1.1 reads the key `on` as True.
    if "on" not in doc and True not in doc:
        problems.append(f"{path.name}: no trigger ('on')")
    for name, job in (doc.get("jobs") or {}).items():
        if "runs-on" not in job:
            problems.append(f"{path.name}: job {name} has no runs-on")
        steps = job.get("steps") or []
        if not steps:
            problems.append(f"{path.name}: job {name} has no steps")
        for step in steps:
            if not ("run" in step or "uses" in step):
                problems.append(f"{path.name}: job {name} has a step with neither run nor uses")
        platforms.add(str(job.get("runs-on", "")).split("-")[0])
for needed in ("ubuntu", "windows", "macos"):
    if needed not in platforms:
        problems.append(f"no workflow job runs on {needed}")
text = "\n".join(p.read_text() for p in workflows)
for needed in ("cygwin-install-action", "cygserver", "msvc", "msys2", "tsan", "asan"):
    if needed not in text:
        problems.append(f"the workflows have no {needed} job")

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

json.loads((root / "CMakePresets.json").read_text())

for problem in problems:
    print(problem)
sys.exit(1 if problems else 0)
