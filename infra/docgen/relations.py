"""Who owns, publishes, consumes and calls what: the relations the pages draw, and the gaps
between them that the docs check reports."""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase

from model import Model, ModelError, referenced_ids

LOG_GROUP = "AWS::Logs::LogGroup"
FUNCTION = "AWS::Lambda::Function"


@dataclass(frozen=True)
class Finding:
    # "error" fails `make docs-check`; "note" is only shown.
    level: str
    text: str


# ---------------------------------------------------------------- ownership


def references(model: Model, function_id: str) -> set[str]:
    """Every resource a function's environment, role, stream mappings and failure
    destinations name."""
    function = model.functions[function_id]
    found = referenced_ids(function.environment, model.resources)
    for statement in function.statements:
        found.update(r for r in statement.resources if r in model.resources)
    for mapping in model.streams:
        if mapping.function == function_id:
            found.update(filter(None, (mapping.source, mapping.on_failure)))
    config = model.invoke_configs.get(function_id)
    if config and config.on_failure:
        found.add(config.on_failure)
    for rule in model.rules:
        for target in rule.targets:
            if target.resource == function_id and target.dead_letter_queue:
                found.add(target.dead_letter_queue)
    return found - {function_id}


def owners(model: Model) -> dict[str, list[str]]:
    """The services whose functions name each resource (a table should have exactly one)."""
    named: dict[str, set[str]] = {}
    for function_id, function in model.functions.items():
        for resource in references(model, function_id):
            named.setdefault(resource, set()).add(function.service)
    return {resource: sorted(services) for resource, services in sorted(named.items())}


def resources_of(model: Model, service: str, cloudformation_type: str) -> list[str]:
    found = set()
    for function_id in model.functions_of(service):
        found.update(
            r for r in references(model, function_id) if model.resources[r] == cloudformation_type
        )
    return sorted(found)


# ---------------------------------------------------------------- publishing


def _action_allows(pattern: str, action: str) -> bool:
    return fnmatchcase(action.lower(), pattern.lower())


def _put_events_allows(statement, source: str, detail_type: str) -> bool:
    if not any(_action_allows(a, "events:PutEvents") for a in statement.actions):
        return False
    for operator, keys in statement.conditions.items():
        for key, expected in keys.items():
            if not key.startswith("events:"):
                continue
            if operator != "StringEquals" or key not in ("events:source", "events:detail-type"):
                raise ModelError(
                    f"PutEvents condition {operator} {key} is not understood by infra/docgen"
                )
            actual = source if key == "events:source" else detail_type
            if actual not in (expected if isinstance(expected, list) else [expected]):
                return False
    return True


def may_publish(model: Model, function_id: str, source: str, detail_type: str) -> bool:
    """Whether the function's role lets it put this event on a bus (a Deny wins)."""
    statements = model.functions[function_id].statements
    allowed = any(
        s.effect == "Allow" and _put_events_allows(s, source, detail_type) for s in statements
    )
    denied = any(
        s.effect == "Deny" and _put_events_allows(s, source, detail_type) for s in statements
    )
    return allowed and not denied


def publishers(model: Model) -> dict[str, list[str]]:
    """Functions allowed to put events, with the sources their conditions name ("*" for any)."""
    found = {}
    for function_id, function in sorted(model.functions.items()):
        sources = set()
        for statement in function.statements:
            if statement.effect != "Allow" or not any(
                _action_allows(a, "events:PutEvents") for a in statement.actions
            ):
                continue
            named = statement.conditions.get("StringEquals", {}).get("events:source", "*")
            sources.update(named if isinstance(named, list) else [named])
        if sources:
            found[function_id] = sorted(sources)
    return found


def emitters(model: Model, event_name: str) -> list[str]:
    event = model.events[event_name]
    if event.source is None:
        return []
    return [f for f in sorted(model.functions) if may_publish(model, f, event.source, event_name)]


# ---------------------------------------------------------------- consuming


def _condition_matches(condition, value: str) -> bool:
    if isinstance(condition, str):
        return condition == value
    if isinstance(condition, dict) and set(condition) == {"prefix"}:
        return value.startswith(condition["prefix"])
    raise ModelError(f"event pattern condition {condition!r} is not understood by infra/docgen")


def pattern_matches(pattern: dict, source: str, detail_type: str) -> bool:
    """Whether a rule's pattern can match an event of this source and type; a pattern that
    also filters on the event's detail may match some of them."""
    for key, value in (("source", source), ("detail-type", detail_type)):
        if key in pattern and not any(_condition_matches(c, value) for c in pattern[key]):
            return False
    return True


def consumers(model: Model, event_name: str):
    """(rule, target) pairs that receive the event; log groups included (callers split them)."""
    event = model.events[event_name]
    found = []
    for rule in model.rules:
        if rule.pattern is None or event.source is None:
            continue
        if pattern_matches(rule.pattern, event.source, event_name):
            found.extend((rule, target) for target in rule.targets)
    return found


def is_recorder(model: Model, resource: str) -> bool:
    """A target that keeps events (a log group) rather than acting on them."""
    return model.resources[resource] == LOG_GROUP


def service_of(model: Model, resource: str) -> str | None:
    function = model.functions.get(resource)
    return function.service if function else None


def event_flows(model: Model) -> dict[tuple[str, str], list[str]]:
    """(publishing service, consuming service) -> event names, through the bus's rules."""
    flows: dict[tuple[str, str], set[str]] = {}
    for name in sorted(model.events):
        senders = {model.functions[f].service for f in emitters(model, name)}
        for _, target in consumers(model, name):
            receiver = service_of(model, target.resource)
            if receiver is None:
                continue
            for sender in senders:
                flows.setdefault((sender, receiver), set()).add(name)
    return {pair: sorted(names) for pair, names in sorted(flows.items())}


def task_calls(model: Model) -> dict[str, list[str]]:
    """Function -> the state-machine tasks that call it."""
    calls: dict[str, list[str]] = {}
    for machine in model.machines:
        for state in machine.states:
            if state.function:
                calls.setdefault(state.function, []).append(f"{machine.logical_id}.{state.name}")
    return calls


# ---------------------------------------------------------------- the cross-check


def _rule_findings(model: Model) -> list[Finding]:
    findings = []
    sources_with_events = {e.source for e in model.events.values()}
    for rule in model.rules:
        pattern = rule.pattern or {}
        acting = [t for t in rule.targets if not is_recorder(model, t.resource)]
        if not acting:
            continue
        for name in (n for n in pattern.get("detail-type", []) if isinstance(n, str)):
            event = model.events.get(name)
            if event is None:
                findings.append(
                    Finding(
                        "error",
                        f"rule {rule.logical_id} waits for {name}, which has no schema in events/schemas",
                    )
                )
            elif not pattern_matches(pattern, event.source or "", name):
                findings.append(
                    Finding(
                        "error",
                        f"rule {rule.logical_id} waits for {name} from {pattern.get('source')}, but {name} comes from {event.source}",
                    )
                )
            elif not emitters(model, name):
                findings.append(
                    Finding(
                        "error",
                        f"rule {rule.logical_id} waits for {name}, which no function may publish",
                    )
                )
        for source in (s for s in pattern.get("source", []) if isinstance(s, str)):
            if source not in sources_with_events:
                findings.append(
                    Finding(
                        "error",
                        f"rule {rule.logical_id} listens to {source}, which has no event schema",
                    )
                )
    return findings


def findings(model: Model) -> list[Finding]:
    """Gaps between what is published, what is consumed, and who owns what.

    Errors: an event a rule waits for that has no schema, comes from another source, or that no
    function may publish (the consumer would wait forever); a schema without a source, or whose
    source no function may publish under (a contract nobody can keep); a table named by
    functions of two services (services share no tables). Notes: an event with no consumer but
    the event log (kept for the audit trail, the archive and later consumers, not a fault).
    """
    found = _rule_findings(model)
    for name, event in sorted(model.events.items()):
        if event.source is None:
            found.append(
                Finding(
                    "error",
                    f'{event.schema} names no single publisher (a sentence "Source: shop.<service>.")',
                )
            )
            continue
        if not emitters(model, name):
            found.append(
                Finding(
                    "error",
                    f"{name} comes from {event.source}, but no function may put events of that source on the bus",
                )
            )
        acting = [t for _, t in consumers(model, name) if not is_recorder(model, t.resource)]
        if not acting:
            found.append(
                Finding(
                    "note",
                    f"{name} has no consumer but the event log: it is kept for the audit trail and the archive",
                )
            )
    for table, services in owners(model).items():
        if model.resources[table] == "AWS::DynamoDB::Table" and len(services) > 1:
            found.append(
                Finding(
                    "error",
                    f"table {table} is used by {', '.join(services)}: every table belongs to one service",
                )
            )
    for function_id, sources in publishers(model).items():
        if "*" in sources:
            found.append(
                Finding(
                    "error",
                    f"{function_id} may put events of any source on the bus: name its source in the PutEvents condition",
                )
            )
    return found
