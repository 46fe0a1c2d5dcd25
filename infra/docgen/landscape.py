"""landscape.md: every service with its functions, tables, routes and queues; the bus and its
rules, the state machines, the streams and the schedules."""

from __future__ import annotations

import json

from markdown import Flowchart, bullets, code, page, table
from model import Model, referenced_ids, shown
from relations import FUNCTION, is_recorder, references, resources_of, task_calls

TABLE = "AWS::DynamoDB::Table"
QUEUE = "AWS::SQS::Queue"
BUS = "AWS::Events::EventBus"
MACHINE = "AWS::StepFunctions::StateMachine"
USER_POOL = "AWS::Cognito::UserPool"
KMS_KEY = "AWS::KMS::Key"
API = "AWS::ApiGatewayV2::Api"


def pattern_text(pattern: dict | None, schedule: str | None = None) -> str:
    if schedule:
        return f"schedule {schedule}"
    parts = []
    for key, conditions in sorted((pattern or {}).items()):
        shown = (
            [
                c
                if isinstance(c, str)
                else (c["prefix"] + "*" if set(c) == {"prefix"} else json.dumps(c))
                for c in conditions
            ]
            if isinstance(conditions, list)
            else [json.dumps(conditions, sort_keys=True)]
        )
        parts.append(f"{key}: {', '.join(shown)}")
    return "; ".join(parts)


def short_actions(actions) -> str:
    return ", ".join(sorted({a.split(":", 1)[-1] for a in actions}))


READS = ("Get", "Query", "Scan", "BatchGet", "Decrypt", "Receive")
WRITES = (
    "Put",
    "Update",
    "Delete",
    "BatchWrite",
    "Transact",
    "Encrypt",
    "Send",
    "Start",
    "Admin",
    "Create",
)


def access(actions) -> str:
    """reads / writes / reads, writes: what the charts say of a grant (the dependencies page
    lists the actions). Describe-only grants (a check at init) give ""."""
    names = [a.split(":", 1)[-1] for a in actions]
    kinds = [
        k
        for k, prefixes in (("reads", READS), ("writes", WRITES))
        if any(n.startswith(prefixes) for n in names)
    ]
    if not kinds and any(not n.startswith(("Describe", "List")) for n in names):
        return short_actions(actions)
    return ", ".join(kinds)


def actions_on(model: Model, function_id: str, resource: str) -> list[str]:
    return sorted(
        {
            a
            for s in model.functions[function_id].statements
            if s.effect == "Allow" and resource in s.resources
            for a in s.actions
        }
    )


def queue_roles(model: Model) -> dict[str, list[str]]:
    """What lands in each queue, from the wiring that sends there."""
    roles: dict[str, list[str]] = {q: [] for q in model.queues}
    for mapping in model.streams:
        if mapping.on_failure in roles:
            roles[mapping.on_failure].append(
                f"what Lambda gave up on in {mapping.source}'s stream to {mapping.function}"
            )
    for config in model.invoke_configs.values():
        if config.on_failure in roles:
            roles[config.on_failure].append(
                f"events {config.function} failed on after Lambda's retries"
            )
    for rule in model.rules:
        for target in rule.targets:
            if target.dead_letter_queue in roles:
                roles[target.dead_letter_queue].append(
                    f"events rule {rule.logical_id} could not deliver to {target.resource}"
                )
    for function_id, function in sorted(model.functions.items()):
        for name, value in sorted(function.environment.items()):
            for queue in sorted(set(roles) & references(model, function_id)):
                if queue in json.dumps(value) and actions_on(model, function_id, queue):
                    roles[queue].append(f"written by {function_id} itself (`{name}`)")
    return roles


def _overview(model: Model) -> str:
    chart = Flowchart("LR")
    for service in model.services():
        chart.group(service, service)
        for function_id in model.functions_of(service):
            chart.node(function_id, model.functions[function_id].binary, group=service)
        for table_id in resources_of(model, service, TABLE):
            chart.node(table_id, table_id, "table", group=service)
    chart.node("client", "client", "actor")
    for api in model.of_type(API):
        chart.node(api, f"HTTP API {api}", "bus")
        chart.edge("client", api, "HTTPS")
        for pool in model.of_type(USER_POOL):
            chart.node(pool, f"Cognito {pool}", "box")
            chart.edge(api, pool, "JWT authorizer", dotted=True)
        by_function: dict[str, int] = {}
        for route in model.routes:
            by_function[route.function] = by_function.get(route.function, 0) + 1
        for function_id, count in sorted(by_function.items()):
            chart.edge(api, function_id, f"{count} routes")
    _wire_bus_and_saga(model, chart)
    return chart.render()


def _wire_bus_and_saga(model: Model, chart: Flowchart) -> None:
    for bus in model.of_type(BUS):
        chart.node(bus, f"EventBridge {bus}", "bus")
    for mapping in model.streams:
        chart.edge(mapping.source, mapping.function, "stream", dotted=True)
    for function_id in sorted(model.functions):
        for statement in model.functions[function_id].statements:
            for resource in statement.resources:
                kind = model.resources.get(resource)
                if kind == BUS and any(a.lower() == "events:putevents" for a in statement.actions):
                    chart.edge(function_id, resource, "PutEvents")
                elif kind == MACHINE and any(
                    a.lower() == "states:startexecution" for a in statement.actions
                ):
                    chart.node(resource, resource, "machine")
                    chart.edge(function_id, resource, "StartExecution")
                elif kind == USER_POOL:
                    chart.edge(function_id, resource, "admin calls", dotted=True)
    for rule in model.rules:
        for target in rule.targets:
            origin = rule.bus or f"schedule_{rule.logical_id}"
            if rule.schedule:
                chart.node(origin, rule.schedule, "actor")
            if is_recorder(model, target.resource):
                chart.node(target.resource, f"log group {target.resource}", "log")
            text = "<br/>".join(
                c if isinstance(c, str) else pattern_text({"x": [c]}).removeprefix("x: ")
                for c in (rule.pattern or {}).get(
                    "detail-type", (rule.pattern or {}).get("source", [])
                )
            )
            chart.edge(origin, target.resource, text)
    for function_id, tasks in sorted(task_calls(model).items()):
        machine = tasks[0].split(".")[0]
        chart.node(machine, machine, "machine")
        chart.edge(machine, function_id, "<br/>".join(t.split(".", 1)[1] for t in tasks))
    for function_id in sorted(model.functions):
        for api in model.of_type(API):
            if api in referenced_ids(model.functions[function_id].environment, model.resources):
                chart.edge(function_id, api, "HTTPS", dotted=True)


def _service_chart(model: Model, service: str) -> str:
    chart = Flowchart("LR")
    chart.group(service, service)
    functions = model.functions_of(service)
    for function_id in functions:
        chart.node(function_id, model.functions[function_id].binary, group=service)
    for table_id in resources_of(model, service, TABLE):
        chart.node(table_id, table_id, "table", group=service)
    routes = [r for r in model.routes if r.function in functions]
    if routes:
        chart.node("routes", "<br/>".join(f"{r.method} {r.path}" for r in routes), "actor")
        for function_id in sorted({r.function for r in routes}):
            chart.edge("routes", function_id, "HTTP API")
    for function_id in functions:
        _resource_edges(model, chart, function_id)
        _trigger_edges(model, chart, function_id)
    return chart.render()


def _resource_edges(model: Model, chart: Flowchart, function_id: str) -> None:
    """What the function's role lets it call, each arrow labelled with the actions."""
    for resource in sorted(references(model, function_id)):
        kind = model.resources[resource]
        actions = actions_on(model, function_id, resource)
        if not actions:
            continue
        environment = referenced_ids(model.functions[function_id].environment, model.resources)
        if kind == QUEUE and resource in environment:
            chart.node(resource, resource, "queue")
            chart.edge(function_id, resource, "parks records", dotted=True)
        elif kind == TABLE and access(actions):
            chart.node(resource, resource, "table")
            chart.edge(function_id, resource, access(actions))
        elif kind in (BUS, MACHINE, USER_POOL, KMS_KEY):
            calls = [a for a in actions if not a.split(":", 1)[-1].startswith("Describe")]
            if calls:
                chart.node(resource, resource, {BUS: "bus", MACHINE: "machine"}.get(kind, "box"))
                chart.edge(function_id, resource, short_actions(calls).replace(", ", "<br/>"))
    for api in model.of_type(API):
        if api in referenced_ids(model.functions[function_id].environment, model.resources):
            chart.node(api, f"HTTP API {api}", "bus")
            chart.edge(function_id, api, "HTTPS")


def _trigger_edges(model: Model, chart: Flowchart, function_id: str) -> None:
    """What invokes the function, and where Lambda and EventBridge put what fails."""
    for mapping in (m for m in model.streams if m.function == function_id):
        chart.node(mapping.source, mapping.source, "table")
        chart.edge(mapping.source, function_id, "stream", dotted=True)
        if mapping.on_failure:
            chart.node(mapping.on_failure, mapping.on_failure, "queue")
            chart.edge(function_id, mapping.on_failure, "records given up on", dotted=True)
    config = model.invoke_configs.get(function_id)
    if config and config.on_failure:
        chart.node(config.on_failure, config.on_failure, "queue")
        chart.edge(function_id, config.on_failure, "failed events", dotted=True)
    for rule in model.rules:
        for target in (t for t in rule.targets if t.resource == function_id):
            origin = rule.bus or f"schedule_{rule.logical_id}"
            if rule.schedule:
                chart.node(origin, rule.schedule, "actor")
                chart.edge(origin, function_id)
                continue
            chart.node(origin, origin, "bus")
            types = [c for c in (rule.pattern or {}).get("detail-type", []) if isinstance(c, str)]
            chart.edge(origin, function_id, "<br/>".join(types) or pattern_text(rule.pattern))
            if target.dead_letter_queue:
                chart.node(target.dead_letter_queue, target.dead_letter_queue, "queue")
                chart.edge(origin, target.dead_letter_queue, "undeliverable", dotted=True)
    for task in task_calls(model).get(function_id, []):
        machine, state = task.split(".", 1)
        chart.node(machine, machine, "machine")
        chart.edge(machine, function_id, state)


def _service_section(model: Model, service: str) -> str:
    functions = model.functions_of(service)
    calls = task_calls(model)
    rows = []
    for function_id in functions:
        function = model.functions[function_id]
        triggers = [f"{r.method} {r.path}" for r in model.routes if r.function == function_id]
        triggers += [f"stream of {m.source}" for m in model.streams if m.function == function_id]
        triggers += [
            f"rule {rule.logical_id} ({pattern_text(rule.pattern, rule.schedule)})"
            for rule in model.rules
            for t in rule.targets
            if t.resource == function_id
        ]
        triggers += [f"task {t}" for t in calls.get(function_id, [])]
        rows.append(
            [
                code(function.binary),
                function_id,
                function.description,
                "<br/>".join(triggers) or "invoked directly",
                f"{function.timeout} s, {function.memory_mb} MB",
            ]
        )
    tables = [
        [
            t,
            ", ".join(model.tables[t].keys),
            model.tables[t].stream or "",
            model.tables[t].ttl or "",
            ", ".join(model.tables[t].indexes),
        ]
        for t in resources_of(model, service, TABLE)
    ]
    routes = [
        [
            r.method,
            code(r.path),
            r.authorizer or "public",
            r.function + (f" (alias `{r.alias}`)" if r.alias else ""),
        ]
        for r in model.routes
        if r.function in functions
    ]
    return "\n\n".join(
        [
            f"## {service}",
            _service_chart(model, service),
            "Functions:",
            table(["Binary", "Function", "Does", "Triggered by", "Timeout, memory"], rows),
            "Tables:",
            table(["Table", "Key", "Stream", "TTL attribute", "Indexes"], tables),
            "Routes:",
            table(["Method", "Path", "Authorizer", "Function"], routes),
        ]
    )


def _bus_section(model: Model) -> str:
    rows = []
    for rule in model.rules:
        for target in rule.targets:
            rows.append(
                [
                    rule.logical_id,
                    rule.bus or "(schedule)",
                    pattern_text(rule.pattern, rule.schedule),
                    target.resource,
                    target.retry
                    if model.resources[target.resource] == FUNCTION or target.dead_letter_queue
                    else "",
                    target.dead_letter_queue or "",
                ]
            )
    archives = [
        [
            a,
            ", ".join(sorted(_ids(model, model.properties[a].get("SourceArn")))),
            model.properties[a].get("RetentionDays", "forever"),
        ]
        for a in model.of_type("AWS::Events::Archive")
    ]
    return "\n\n".join(
        [
            "## The bus and its rules",
            "Buses: "
            + ", ".join(
                f"{b} (`{_name(model.properties[b].get('Name'))}`)" for b in model.of_type(BUS)
            ),
            table(["Rule", "Bus", "Pattern", "Target", "Retries", "Dead-letter queue"], rows),
            "Archives:",
            table(["Archive", "Of", "Days kept"], archives),
        ]
    )


def _ids(model, value):
    return referenced_ids(value, model.resources)


def _name(value) -> str:
    return shown(value).removeprefix("!Sub ")


def _machine_section(model: Model) -> str:
    parts = ["## State machines"]
    for machine in model.machines:
        chart = Flowchart("TD")
        chart.node("start", "start", "actor")
        chart.edge("start", machine.start)
        for state in machine.states:
            text = state.name
            if state.function:
                text += f"<br/>{model.functions[state.function].binary}"
            chart.node(state.name, text, "box" if state.kind == "Task" else "actor")
            for target, condition in state.transitions:
                chart.edge(state.name, target, condition, dotted=condition.startswith("catch"))
            if state.ends:
                chart.node("done", "end", "actor")
                chart.edge(state.name, "done")
        tasks = [
            [s.name, s.function, model.functions[s.function].binary]
            for s in machine.states
            if s.function
        ]
        parts += [
            f"### {machine.logical_id}",
            f"{machine.kind}, defined in [{machine.definition}](../../{machine.definition}).",
            chart.render(),
            table(["Task", "Calls", "Binary"], tasks),
        ]
    return "\n\n".join(parts)


def _streams_section(model: Model) -> str:
    rows = [
        [
            m.source,
            model.tables[m.source].stream if m.source in model.tables else "",
            m.function,
            m.settings,
            m.on_failure or "lost",
        ]
        for m in model.streams
    ]
    return "## Streams\n\n" + table(["Table", "View", "Function", "Mapping", "On failure"], rows)


def _queues_section(model: Model) -> str:
    roles = queue_roles(model)
    owner = {}
    for service in model.services():
        for queue in resources_of(model, service, QUEUE):
            owner.setdefault(queue, []).append(service)
    rows = [
        [
            q,
            ", ".join(owner.get(q, [])),
            "<br/>".join(roles[q]) or "nothing in the template sends here",
        ]
        for q in model.queues
    ]
    return (
        "## Queues\n\nEvery queue is a failure queue: what waits there is redriven with `make redrive`.\n\n"
        + table(["Queue", "Service", "What lands there"], rows)
    )


def render(model: Model) -> str:
    intro = (
        "What `infra/template.yaml` deploys, after the SAM transform: every service's functions "
        "and tables, the HTTP API, the bus and its rules, the state machines, the streams and "
        "the failure queues. The other generated pages: [event catalogue](events.md), "
        "[dependencies](dependencies.md), [network and ports](network.md).\n\n"
        "Shapes: rectangles are functions, cylinders tables, hexagons the API and the bus, "
        "double-edged boxes state machines, slanted boxes queues; a dotted arrow is a stream "
        "or a way to a failure queue. An arrow from a function says whether its role reads or "
        "writes there; grants that only describe a resource (checked at start-up) are left "
        "out of the charts, and [dependencies](dependencies.md) lists every action."
    )
    services = ", ".join(f"[{s}](#{s})" for s in model.services())
    return page(
        "Landscape",
        intro,
        "## Overview\n\nServices: " + services + ".",
        _overview(model),
        *[_service_section(model, s) for s in model.services()],
        _bus_section(model),
        _machine_section(model),
        _streams_section(model),
        _queues_section(model),
        "## Schedules\n\n"
        + bullets(
            [
                f"{r.logical_id}: `{r.schedule}` → {', '.join(t.resource for t in r.targets)}"
                for r in model.rules
                if r.schedule
            ]
        ),
    )
