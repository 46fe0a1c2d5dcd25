"""Every `run:` step of every workflow is one `make <target> [VAR=value ...]` call of a target
that the Makefile defines.

Why: what CI does must be what a developer can run on their machine, so the workflows only
choose the order, the machine and the credentials, and the Makefile owns the commands. A step
that calls anything else, chains commands, or names a target the Makefile lacks (renamed,
removed, misspelt) fails here, in `make test`, not on GitHub after a merge. `${{ }}` in a
`run:` is refused as well: values reach make through `env:`, so no expression is ever pasted
into a shell line (GitHub's guidance against script injection).

Usage: check_workflows.py [--makefile Makefile] [WORKFLOW.yml ...]
(default: every .github/workflows/*.yml and *.yaml of the repository)
"""

import argparse
import re
import shlex
import sys
from pathlib import Path

import yaml

REPOSITORY = Path(__file__).resolve().parent.parent

# A rule line: one or more target names, then a single colon (`:=` and `::=` are
# assignments). Names holding `$(...)` are file targets made from variables, never called.
RULE = re.compile(r"^([A-Za-z0-9_.%/ -]+?)\s*:(?![:=])")
ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
TARGET = re.compile(r"^[A-Za-z0-9_.-]+$")


def makefile_targets(text: str) -> set[str]:
    """The explicit targets a Makefile defines (special targets like .PHONY excluded)."""
    targets = set()
    for line in text.splitlines():
        if line.startswith(("\t", "#")):
            continue
        match = RULE.match(line)
        if not match:
            continue
        for name in match.group(1).split():
            if not name.startswith(".") and "%" not in name:
                targets.add(name)
    return targets


def run_problem(command: str, targets: set[str]) -> str | None:
    """Why a `run:` command is not one call of existing make targets, or None when it is."""
    command = command.strip()
    if "\n" in command:
        return "runs more than one line"
    if "${{" in command:
        return "pastes a ${{ }} expression into the shell line (pass it through env:)"
    try:
        words = shlex.split(command)
    except ValueError as error:
        return f"cannot be read as one command ({error})"
    if not words or words[0] != "make":
        return "is not a make call"
    called = []
    for word in words[1:]:
        if ASSIGNMENT.match(word):
            continue
        if not TARGET.match(word):
            # Options (-C, -f, -k ...) and shell syntax (&&, ;, |, >) change what runs.
            return f"passes {word!r}, which is neither a target nor VAR=value"
        called.append(word)
    if not called:
        return "names no target"
    missing = [name for name in called if name not in targets]
    if missing:
        return f"calls {', '.join(missing)}, which the Makefile does not define"
    return None


def workflow_problems(name: str, workflow: object, targets: set[str]) -> list[str]:
    """Every offending step of one parsed workflow, as `file: job: step: why`."""
    if not isinstance(workflow, dict) or not isinstance(workflow.get("jobs"), dict):
        return [f"{name}: has no jobs"]
    problems = []
    for job_id, job in workflow["jobs"].items():
        steps = job.get("steps", []) if isinstance(job, dict) else []
        for index, step in enumerate(steps, start=1):
            if not isinstance(step, dict) or "run" not in step:
                continue
            label = step.get("name", f"step {index}")
            why = run_problem(str(step["run"]), targets)
            if why:
                problems.append(f"{name}: {job_id}: {label}: `{step['run']}` {why}")
    return problems


def run_steps(workflow: object) -> int:
    """How many `run:` steps a parsed workflow has."""
    jobs = workflow.get("jobs") if isinstance(workflow, dict) else None
    if not isinstance(jobs, dict):
        return 0
    return sum(
        1
        for job in jobs.values()
        if isinstance(job, dict)
        for step in job.get("steps", [])
        if isinstance(step, dict) and "run" in step
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--makefile", type=Path, default=REPOSITORY / "Makefile")
    parser.add_argument("workflows", nargs="*", type=Path)
    args = parser.parse_args()
    workflows = args.workflows or sorted(
        path
        for pattern in ("*.yml", "*.yaml")
        for path in (REPOSITORY / ".github/workflows").glob(pattern)
    )
    if not workflows:
        print("no workflows to check", file=sys.stderr)
        return 1
    targets = makefile_targets(args.makefile.read_text())
    problems = []
    steps = 0
    for path in workflows:
        workflow = yaml.safe_load(path.read_text())
        problems += workflow_problems(path.name, workflow, targets)
        steps += run_steps(workflow)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        return 1
    print(f"{steps} run steps in {len(workflows)} workflows, each one make call of a defined target")
    return 0


if __name__ == "__main__":
    sys.exit(main())
