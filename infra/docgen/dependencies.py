"""dependencies.md: per service, what its functions use (from their roles and environment) and
which services it depends on through events and the saga."""

from __future__ import annotations

from markdown import Flowchart, code, page, table
from model import Model, referenced_ids, shown
from relations import consumers, emitters, event_flows, owners, references, task_calls

KINDS = {
    "AWS::DynamoDB::Table": "table",
    "AWS::SQS::Queue": "queue",
    "AWS::Events::EventBus": "bus",
    "AWS::Cognito::UserPool": "Cognito user pool",
    "AWS::Cognito::UserPoolClient": "Cognito app client",
    "AWS::KMS::Key": "KMS key",
    "AWS::StepFunctions::StateMachine": "state machine",
    "AWS::SSM::Parameter": "SSM parameter",
    "AWS::ApiGatewayV2::Api": "HTTP API",
    "AWS::Logs::LogGroup": "log group",
}
SHARED = (
    "AWS::Events::EventBus",
    "AWS::Cognito::UserPool",
    "AWS::KMS::Key",
    "AWS::StepFunctions::StateMachine",
    "AWS::ApiGatewayV2::Api",
)


def _grants(model: Model, service: str) -> list[list[str]]:
    rows = []
    for function_id in model.functions_of(service):
        function = model.functions[function_id]
        by_resource: dict[str, set[str]] = {}
        for statement in function.statements:
            if statement.effect != "Allow":
                continue
            for resource in statement.resources:
                by_resource.setdefault(resource, set()).update(statement.actions)
        for resource, actions in sorted(by_resource.items()):
            kind = KINDS.get(
                model.resources.get(resource, ""), model.resources.get(resource, "any resource")
            )
            rows.append([function.binary, resource, kind, ", ".join(sorted(actions))])
    return rows


def _environment(model: Model, service: str) -> list[list[str]]:
    rows = []
    for function_id in model.functions_of(service):
        function = model.functions[function_id]
        for name, value in sorted(function.environment.items()):
            named = sorted(referenced_ids(value, model.resources))
            rows.append([function.binary, code(name), code(shown(value)), ", ".join(named)])
    return rows


def _parameters(model: Model, service: str) -> list[str]:
    """SSM parameters that publish this service's resources (for people and other stacks)."""
    # The HTTP API is everyone's entry, not the service of the one function that calls it.
    own = {
        r
        for r, services in owners(model).items()
        if services == [service] and model.resources[r] not in ("AWS::ApiGatewayV2::Api",)
    }
    own.update(model.functions_of(service))
    found = []
    for parameter in model.of_type("AWS::SSM::Parameter"):
        props = model.properties[parameter]
        if referenced_ids(props.get("Value"), model.resources) & own:
            found.append(f"{code(shown(props.get('Name')).removeprefix('!Sub '))} ({parameter})")
    return found


def _ssm_reads(model: Model, service: str) -> list[str]:
    return sorted(
        {
            f"{model.functions[f].binary}: {a}"
            for f in model.functions_of(service)
            for s in model.functions[f].statements
            for a in s.actions
            if a.lower().startswith("ssm:")
        }
    )


def _event_lines(model: Model, service: str) -> tuple[list[str], list[str]]:
    """What the service publishes (and to whom) and what it consumes (and from whom)."""
    gives, takes = [], []
    for name in sorted(model.events):
        senders = sorted({model.functions[f].service for f in emitters(model, name)})
        receivers = sorted(
            {
                model.functions[t.resource].service
                for _, t in consumers(model, name)
                if t.resource in model.functions
            }
        )
        if service in senders:
            gives.append(f"{name} → {', '.join(receivers) or 'the event log only'}")
        if service in receivers:
            takes.append(f"{name} ← {', '.join(senders) or 'nobody'}")
    return takes, gives


def _saga_lines(model: Model, service: str) -> list[str]:
    lines = []
    functions = set(model.functions_of(service))
    for function_id, tasks in sorted(task_calls(model).items()):
        if function_id in functions:
            lines.append(f"{model.functions[function_id].binary} runs {', '.join(tasks)}")
    for function_id in sorted(functions):
        for statement in model.functions[function_id].statements:
            for resource in statement.resources:
                if (
                    model.resources.get(resource) == "AWS::StepFunctions::StateMachine"
                    and "states:StartExecution" in statement.actions
                ):
                    lines.append(f"{model.functions[function_id].binary} starts {resource}")
    return lines


def _shared(model: Model, service: str) -> list[str]:
    used = set()
    for function_id in model.functions_of(service):
        used.update(r for r in references(model, function_id) if model.resources[r] in SHARED)
    return sorted(used)


def _service_section(model: Model, service: str) -> str:
    takes, gives = _event_lines(model, service)
    parameters = _parameters(model, service)
    reads = _ssm_reads(model, service)
    return "\n\n".join(
        [
            f"## {service}",
            "Publishes: " + ("; ".join(gives) or "nothing") + ".",
            "Consumes: " + ("; ".join(takes) or "nothing") + ".",
            "In the saga: " + ("; ".join(_saga_lines(model, service)) or "no part") + ".",
            "Shared resources it uses: " + (", ".join(_shared(model, service)) or "none") + ".",
            "SSM: its functions read "
            + (
                ", ".join(reads)
                if reads
                else "no parameters (their settings come from the environment)"
            )
            + "; the stack publishes "
            + (", ".join(parameters) if parameters else "none of its resources")
            + ".",
            "What each function's role allows:",
            table(["Function", "Resource", "Kind", "Actions"], _grants(model, service)),
            "Environment:",
            table(["Function", "Variable", "Value", "Names"], _environment(model, service)),
        ]
    )


def _chart(model: Model) -> str:
    chart = Flowchart("TB")
    for service in model.services():
        chart.node(f"svc_{service}", service, "service")
    for (sender, receiver), names in event_flows(model).items():
        if sender != receiver:
            chart.edge(
                f"svc_{receiver}",
                f"svc_{sender}",
                "consumes<br/>" + "<br/>".join(names),
                dotted=True,
            )
    for function_id, tasks in sorted(task_calls(model).items()):
        machine = tasks[0].split(".")[0]
        starters = [
            model.functions[f].service
            for f in sorted(model.functions)
            for s in model.functions[f].statements
            if machine in s.resources and "states:StartExecution" in s.actions
        ]
        for starter in starters:
            callee = model.functions[function_id].service
            if callee != starter:
                chart.edge(f"svc_{starter}", f"svc_{callee}", "saga tasks")
    for service in model.services():
        for resource in _shared(model, service):
            kind = model.resources[resource]
            # The bus is everyone's; an arrow from each service to it says nothing.
            if kind not in ("AWS::StepFunctions::StateMachine", "AWS::Events::EventBus"):
                chart.node(resource, f"{resource}<br/>{KINDS[kind]}", "box")
                chart.edge(f"svc_{service}", resource, "uses")
    return chart.render()


def render(model: Model) -> str:
    intro = (
        "What each service's functions use, read from their roles (the statements after the "
        "SAM transform, policy templates expanded) and their environment, and which services "
        "each depends on. In the chart an arrow points from a service to what it depends "
        "on: another service whose events it consumes (dotted), a service whose tasks its "
        "saga calls (solid), and the shared resources but the bus, which every publisher "
        "uses. Tables and queues are each service's own. Landscape: "
        "[landscape.md](landscape.md); events: [events.md](events.md)."
    )
    shared = [
        [r, KINDS.get(model.resources[r], model.resources[r]), ", ".join(s)]
        for r, s in owners(model).items()
        if len(s) > 1
    ]
    return page(
        "Dependencies",
        intro,
        _chart(model),
        "Resources used by more than one service:",
        table(["Resource", "Kind", "Services"], shared),
        *[_service_section(model, s) for s in model.services()],
    )
