"""The workflow check refuses what it exists to refuse (`make workflow-check` runs these)."""

import subprocess
import sys
import tempfile
import textwrap
import unittest
from pathlib import Path

from check_workflows import REPOSITORY, makefile_targets, run_problem, workflow_problems

MAKEFILE = textwrap.dedent(
    """\
    VENV := .venv
    STAMP ::= $(VENV)/.installed
    .PHONY: test deploy
    test: lint unit
    lint unit:
    \tcargo clippy
    $(STAMP): requirements.txt
    \tpip install
    deploy:
    # commented-out: not a target
    """
)
TARGETS = makefile_targets(MAKEFILE)


class MakefileTargets(unittest.TestCase):
    def test_rules_are_targets_and_assignments_special_targets_and_recipes_are_not(self):
        self.assertEqual(TARGETS, {"test", "lint", "unit", "deploy"})

    def test_the_repositorys_makefile_defines_the_test_target(self):
        targets = makefile_targets((REPOSITORY / "Makefile").read_text())
        self.assertIn("test", targets)
        self.assertIn("workflow-check", targets)


class RunSteps(unittest.TestCase):
    def test_a_make_call_of_defined_targets_with_variables_passes(self):
        self.assertIsNone(run_problem("make deploy STAGE=dev", TARGETS))
        self.assertIsNone(run_problem("make lint unit\n", TARGETS))

    def test_a_missing_target_fails_and_is_named(self):
        why = run_problem("make deploy-everything STAGE=dev", TARGETS)
        self.assertEqual(why, "calls deploy-everything, which the Makefile does not define")

    def test_anything_but_one_make_call_fails(self):
        for command in [
            "cargo test",
            "make test && rm -rf target",
            "make test; echo done",
            "make -C elsewhere test",
            "make test | tee log",
            "make test\nmake deploy",
            "make",
            "make STAGE=dev",
            "make 'unterminated",
        ]:
            with self.subTest(command=command):
                self.assertIsNotNone(run_problem(command, TARGETS))

    def test_an_expression_in_the_shell_line_fails(self):
        why = run_problem("make deploy STAGE=${{ github.event.inputs.stage }}", TARGETS)
        self.assertIn("env:", why)

    def test_a_workflow_reports_each_offending_step_with_its_job(self):
        workflow = {
            "jobs": {
                "build": {
                    "steps": [
                        {"uses": "actions/checkout@v4"},
                        {"name": "Test", "run": "make test"},
                        {"name": "Ship", "run": "make ship"},
                    ]
                },
                "call": {"uses": "./.github/workflows/deploy.yml"},
            }
        }
        self.assertEqual(
            workflow_problems("ci.yml", workflow, TARGETS),
            ["ci.yml: build: Ship: `make ship` calls ship, which the Makefile does not define"],
        )


class CommandLine(unittest.TestCase):
    def test_exits_non_zero_and_names_a_missing_target(self):
        with tempfile.TemporaryDirectory() as directory:
            makefile = Path(directory, "Makefile")
            makefile.write_text(MAKEFILE)
            workflow = Path(directory, "ci.yml")
            workflow.write_text("on: push\njobs:\n  t:\n    steps:\n      - run: make tests\n")
            result = subprocess.run(
                [sys.executable, str(Path(__file__).with_name("check_workflows.py")),
                 "--makefile", str(makefile), str(workflow)],
                capture_output=True, text=True, check=False,
            )
        self.assertEqual(result.returncode, 1)
        self.assertIn("calls tests, which the Makefile does not define", result.stderr)


if __name__ == "__main__":
    unittest.main()
