"""Keeps docs/runbook.md in step with infra/template.yaml.

An operator paged by an alarm opens the runbook at that alarm's section, so every alarm of
the template (AWS::CloudWatch::Alarm and CompositeAlarm) must have one, headed
`### `<LogicalId>``, and the runbook must not send anyone to an alarm the template no longer
has. The same holds for the failure queues, which the redrive table lists one per row, and for
every name the runbook builds from the stage (`shop-<stage>-orders`, `shop-<stage>-unhealthy`):
the template must build it too.

Usage: check_runbook.py TEMPLATE RUNBOOK. Exits 1 naming every mismatch.
"""

import re
import sys
from pathlib import Path

from cfnlint.decode import cfn_yaml

ALARM_TYPES = {"AWS::CloudWatch::Alarm", "AWS::CloudWatch::CompositeAlarm"}

# An alarm's logical id as the runbook writes it, alone or inside a physical name
# (shop-prod-SagaFailuresAlarm-1A2B...). A type name (AWS::CloudWatch::CompositeAlarm) follows
# a colon and a pattern (<Service>FunctionErrorsAlarm) a placeholder: neither is an alarm.
ALARM_MENTION = re.compile(r"(?<![:\w>])([A-Z][A-Za-z0-9]*Alarm)\b")
# AWS's own words that look like alarm ids (`describe-alarms --alarm-types`).
AWS_ALARM_WORDS = {"MetricAlarm", "CompositeAlarm"}
ALARM_HEADING = re.compile(r"^### `([A-Za-z0-9]+)`\s*$", re.MULTILINE)
# The template's queues are named <Consumer>DLQ, <Consumer>FailedEvents or <Publisher>DLQ.
QUEUE_MENTION = re.compile(r"(?<![:\w>])([A-Z][A-Za-z0-9]*(?:DLQ|FailedEvents))\b")
QUEUE_ROW = re.compile(r"^\| `([A-Za-z0-9]+)` \|", re.MULTILINE)
STAGE_NAME_MENTION = re.compile(r"shop-<stage>-([a-z0-9]+(?:-[a-z0-9]+)*)")
STAGE_NAME_BUILT = re.compile(r"shop-\$\{Stage\}-([a-z0-9]+(?:-[a-z0-9]+)*)")


def section(text, title):
    """The text under the `## title` heading, up to the next `## ` heading."""
    pattern = rf"^## {re.escape(title)}\s*$(.*?)(?=^## |\Z)"
    match = re.search(pattern, text, re.MULTILINE | re.DOTALL)
    return match.group(1) if match else ""


def of_type(resources, types):
    return {name for name, resource in resources.items() if resource.get("Type") in types}


def problems(template, template_text, runbook):
    """Every way the runbook and the template disagree, one line each."""
    resources = template["Resources"]
    alarms = of_type(resources, ALARM_TYPES)
    queues = of_type(resources, {"AWS::SQS::Queue"})
    found = []

    headings = ALARM_HEADING.findall(section(runbook, "Alarms"))
    for name in sorted(alarms - set(headings)):
        found.append(f"alarm {name} has no `### `{name}`` section under ## Alarms")
    for name in sorted({h for h in headings if headings.count(h) > 1}):
        found.append(f"alarm {name} has more than one section")
    for name in sorted(set(ALARM_MENTION.findall(runbook)) - alarms - AWS_ALARM_WORDS):
        found.append(f"the runbook names {name}, which is no alarm of the template")

    rows = QUEUE_ROW.findall(section(runbook, "Redrive the failure queues"))
    for name in sorted(queues - set(rows)):
        found.append(f"queue {name} has no row in the redrive table")
    for name in sorted(set(QUEUE_MENTION.findall(runbook)) - queues):
        found.append(f"the runbook names {name}, which is no queue of the template")

    built = set(STAGE_NAME_BUILT.findall(template_text))
    for suffix in sorted(set(STAGE_NAME_MENTION.findall(runbook)) - built):
        found.append(
            f"the runbook names shop-<stage>-{suffix}, which the template does not build"
        )
    return found


def main(template_path, runbook_path):
    template = cfn_yaml.load(template_path)
    template_text = Path(template_path).read_text(encoding="utf-8")
    runbook = Path(runbook_path).read_text(encoding="utf-8")
    found = problems(template, template_text, runbook)
    for line in found:
        print(f"{runbook_path}: {line}", file=sys.stderr)
    if found:
        return 1
    alarms = len(of_type(template["Resources"], ALARM_TYPES))
    queues = len(of_type(template["Resources"], {"AWS::SQS::Queue"}))
    print(f"{runbook_path}: {alarms} alarms and {queues} failure queues, each with its section")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2]))
