"""The system as its sources describe it, read once for every generated page.

Sources: `infra/template.yaml` after the SAM transform (what CloudFormation deploys: functions,
their roles' concrete statements, routes, rules, stream mappings, failure destinations), the
state machines' definition files, `events/schemas/`, and devstack's Rust sources for the local
ports and environment. Reading is strict: a shape the generator does not understand raises
`ModelError` naming it, so a page never leaves something out without anyone noticing.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# validate_template.py is a script beside this folder, not a package.
sys.path.insert(0, str(ROOT / "infra"))

import validate_template  # noqa: E402


class ModelError(Exception):
    """A source has a shape the generator cannot read; the message says which and where."""


@dataclass(frozen=True)
class Statement:
    sid: str
    effect: str
    actions: tuple[str, ...]
    # Logical ids the statement's resources name; "*" or a literal ARN when they name none.
    resources: tuple[str, ...]
    conditions: dict


@dataclass
class Function:
    logical_id: str
    binary: str
    service: str
    description: str
    environment: dict
    statements: list[Statement]
    timeout: int
    memory_mb: int
    in_vpc: bool


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    function: str
    # The alias the integration invokes (AutoPublishAlias), if any.
    alias: str | None
    # None: public (the route opts out of the authorizer).
    authorizer: str | None


@dataclass(frozen=True)
class Target:
    resource: str
    dead_letter_queue: str | None
    retry: str


@dataclass
class Rule:
    logical_id: str
    bus: str | None
    pattern: dict | None
    schedule: str | None
    targets: list[Target]


@dataclass(frozen=True)
class StreamMapping:
    logical_id: str
    source: str
    function: str
    on_failure: str | None
    settings: str


@dataclass(frozen=True)
class InvokeConfig:
    function: str
    on_failure: str | None
    retries: int | None


@dataclass
class State:
    name: str
    kind: str
    function: str | None
    # (next state, label): Next and Default unlabelled, Catch labelled by its errors.
    transitions: list[tuple[str, str]]
    ends: bool


@dataclass
class StateMachine:
    logical_id: str
    kind: str
    definition: str
    start: str
    states: list[State]


@dataclass
class Table:
    logical_id: str
    keys: list[str]
    stream: str | None
    ttl: str | None
    indexes: list[str]


@dataclass
class Field:
    path: str
    kind: str
    required: bool
    notes: str


@dataclass
class Event:
    name: str
    versions: list[int]
    source: str | None
    description: str
    schema: str
    envelope_notes: list[str]
    fields: list[Field]


@dataclass
class Local:
    """devstack's defaults and the environment it gives every function process."""

    api_port: int
    api_flag: str
    https_port: int
    https_flag: str
    # The local CA's certificate, which HTTPS clients trust.
    ca_file: str
    edge_port: int
    edge_flag: str
    host: str
    region: str
    account: str
    # (name, the Rust expression devstack sets it to, that name's `let` binding if any, the
    # comment above it)
    function_env: list[tuple[str, str, str, str]]
    instance_env: list[str]
    edge_routes: list[tuple[str, str]]


@dataclass
class Model:
    stage_default: str
    resources: dict  # logical id -> CloudFormation type, after the transform
    properties: dict  # logical id -> properties, after the transform
    functions: dict[str, Function]
    routes: list[Route]
    rules: list[Rule]
    streams: list[StreamMapping]
    invoke_configs: dict[str, InvokeConfig]
    machines: list[StateMachine]
    tables: dict[str, Table]
    queues: list[str]
    events: dict[str, Event]
    shared_schemas: list[str]
    envelope: list[Field]
    local: Local
    outputs: dict

    def of_type(self, cloudformation_type):
        return sorted(i for i, t in self.resources.items() if t == cloudformation_type)

    def services(self):
        return sorted({f.service for f in self.functions.values()})

    def functions_of(self, service):
        return sorted(i for i, f in self.functions.items() if f.service == service)


# ---------------------------------------------------------------- intrinsics


def referenced_ids(value, resources):
    """Logical ids of `resources` that `value` refers to through Ref, GetAtt or Sub."""
    found = set()

    def visit(node):
        if isinstance(node, dict):
            if len(node) == 1:
                ((key, argument),) = node.items()
                if key == "Ref":
                    found.update({argument} & resources.keys())
                    return
                if key == "Fn::GetAtt":
                    name = argument[0] if isinstance(argument, list) else argument.split(".")[0]
                    found.update({name} & resources.keys())
                    return
                if key == "Fn::Sub":
                    text, variables = (argument, {}) if isinstance(argument, str) else argument
                    for name in re.findall(r"\$\{([^}!][^}]*)\}", text):
                        base = name.split(".")[0]
                        if base not in variables:
                            found.update({base} & resources.keys())
                    visit(variables)
                    return
            for item in node.values():
                visit(item)
        elif isinstance(node, list):
            for item in node:
                visit(item)

    visit(value)
    return found


def shown(value):
    """An intrinsic in its short form, as the template's author wrote it."""
    if isinstance(value, dict) and len(value) == 1:
        ((key, argument),) = value.items()
        if key == "Ref":
            return f"!Ref {argument}"
        if key == "Fn::GetAtt":
            return "!GetAtt " + (".".join(argument) if isinstance(argument, list) else argument)
        if key == "Fn::Sub" and isinstance(argument, str):
            return f"!Sub {argument}"
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    return str(value)


def _listed(value):
    return list(value) if isinstance(value, list) else [value]


def _one_id(value, resources, what):
    ids = referenced_ids(value, resources)
    if len(ids) != 1:
        raise ModelError(f"{what}: expected one resource, found {sorted(ids) or shown(value)}")
    return next(iter(ids))


def _optional_id(value, resources, what):
    return None if value is None else _one_id(value, resources, what)


def _aliases(expanded, resources):
    """Alias or version logical id -> (function, alias name): SAM's AutoPublishAlias makes
    callers name the alias, and the pages name the function behind it."""
    behind = {}
    for logical_id, resource in expanded.items():
        if resource["Type"] in ("AWS::Lambda::Alias", "AWS::Lambda::Version"):
            props = resource["Properties"]
            function = _one_id(props["FunctionName"], resources, f"{logical_id} function")
            behind[logical_id] = (function, props.get("Name"))
    return behind


def _function(value, resources, aliases, what):
    """The one resource `value` names, with an alias or version read as its function."""
    found = _one_id(value, resources, what)
    return aliases.get(found, (found, None))[0]


# ---------------------------------------------------------------- the template


def _statements(role, resources):
    statements = []
    for policy in role.get("Policies", []):
        for raw in _listed(policy["PolicyDocument"]["Statement"]):
            ids = referenced_ids(raw.get("Resource", "*"), resources)
            literal = tuple(r for r in _listed(raw.get("Resource", "*")) if isinstance(r, str))
            statements.append(
                Statement(
                    sid=raw.get("Sid", ""),
                    effect=raw["Effect"],
                    actions=tuple(sorted(_listed(raw["Action"]))),
                    resources=tuple(sorted(ids)) or literal,
                    conditions=raw.get("Condition", {}),
                )
            )
    return statements


def _functions(expanded, resources):
    functions = {}
    for logical_id, resource in expanded.items():
        if resource["Type"] != "AWS::Lambda::Function":
            continue
        binary = resource.get("Metadata", {}).get("BuildProperties", {}).get("Binary")
        if not binary:
            raise ModelError(
                f"{logical_id}: no Metadata.BuildProperties.Binary to name its service by"
            )
        props = resource["Properties"]
        role = expanded[_one_id(props["Role"], resources, f"{logical_id}.Role")]["Properties"]
        functions[logical_id] = Function(
            logical_id=logical_id,
            binary=binary,
            # Binaries are named <service>-<role> (DESIGN.md); a binary without a dash is a
            # service of one function (the canary).
            service=binary.split("-")[0],
            description=props.get("Description", ""),
            environment=props.get("Environment", {}).get("Variables", {}),
            statements=_statements(role, resources),
            timeout=props.get("Timeout", 3),
            memory_mb=props.get("MemorySize", 128),
            in_vpc="VpcConfig" in props,
        )
    return functions


def _routes(expanded, resources, aliases):
    routes = []
    for logical_id, resource in expanded.items():
        if resource["Type"] != "AWS::ApiGatewayV2::Api":
            continue
        body = resource["Properties"].get("Body")
        if body is None:
            raise ModelError(
                f"{logical_id}: an HTTP API without a generated body is not understood"
            )
        for path, methods in body.get("paths", {}).items():
            for method, operation in methods.items():
                integration = operation["x-amazon-apigateway-integration"]
                called = _one_id(integration["uri"], resources, f"{logical_id} {method} {path}")
                function, alias = aliases.get(called, (called, None))
                schemes = [
                    name for requirement in operation.get("security", []) for name in requirement
                ]
                routes.append(
                    Route(
                        method=method.upper().replace("X-AMAZON-APIGATEWAY-ANY-METHOD", "ANY"),
                        path=path,
                        function=function,
                        alias=alias,
                        authorizer=None if schemes in ([], ["NONE"]) else ", ".join(schemes),
                    )
                )
    return sorted(routes, key=lambda r: (r.path, r.method))


def _retry(policy):
    if not policy:
        return "EventBridge's default (185 attempts over 24 h)"
    parts = (
        [f"{policy['MaximumRetryAttempts']} retries"] if "MaximumRetryAttempts" in policy else []
    )
    if "MaximumEventAgeInSeconds" in policy:
        parts.append(f"events up to {policy['MaximumEventAgeInSeconds']} s old")
    return ", ".join(parts)


def _rules(expanded, resources, aliases):
    rules = []
    for logical_id, resource in expanded.items():
        if resource["Type"] != "AWS::Events::Rule":
            continue
        props = resource["Properties"]
        targets = [
            Target(
                resource=_function(
                    t["Arn"], resources, aliases, f"{logical_id} target {t.get('Id')}"
                ),
                dead_letter_queue=_optional_id(
                    t.get("DeadLetterConfig", {}).get("Arn"), resources, f"{logical_id} DLQ"
                ),
                retry=_retry(t.get("RetryPolicy")),
            )
            for t in props.get("Targets", [])
        ]
        rules.append(
            Rule(
                logical_id=logical_id,
                bus=_optional_id(props.get("EventBusName"), resources, f"{logical_id} bus"),
                pattern=props.get("EventPattern"),
                schedule=props.get("ScheduleExpression"),
                targets=sorted(targets, key=lambda t: t.resource),
            )
        )
    return sorted(rules, key=lambda r: r.logical_id)


def _on_failure(props, resources, what):
    destination = props.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
    return _optional_id(destination, resources, what)


def _streams(expanded, resources, aliases):
    mappings = []
    for logical_id, resource in expanded.items():
        if resource["Type"] != "AWS::Lambda::EventSourceMapping":
            continue
        props = resource["Properties"]
        settings = [
            f"batch {props.get('BatchSize', 100)}",
            f"from {props.get('StartingPosition', '-')}",
        ]
        if "MaximumRetryAttempts" in props:
            settings.append(f"{props['MaximumRetryAttempts']} retries")
        if "ReportBatchItemFailures" in props.get("FunctionResponseTypes", []):
            settings.append("partial batch failures")
        mappings.append(
            StreamMapping(
                logical_id=logical_id,
                source=_one_id(props["EventSourceArn"], resources, f"{logical_id} source"),
                function=_function(
                    props["FunctionName"], resources, aliases, f"{logical_id} function"
                ),
                on_failure=_on_failure(props, resources, f"{logical_id} on failure"),
                settings=", ".join(settings),
            )
        )
    return sorted(mappings, key=lambda m: (m.source, m.function))


def _invoke_configs(expanded, resources, aliases):
    configs = {}
    for logical_id, resource in expanded.items():
        if resource["Type"] != "AWS::Lambda::EventInvokeConfig":
            continue
        props = resource["Properties"]
        function = _function(props["FunctionName"], resources, aliases, f"{logical_id} function")
        configs[function] = InvokeConfig(
            function=function,
            on_failure=_on_failure(props, resources, f"{logical_id} on failure"),
            retries=props.get("MaximumRetryAttempts"),
        )
    return configs


def _states(definition, substitutions, what):
    states = []
    for name, state in definition["States"].items():
        function = None
        if state["Type"] == "Task":
            target = state.get("Parameters", {}).get("FunctionName", state.get("Resource", ""))
            placeholder = re.fullmatch(r"\$\{(\w+)\}", target)
            if not placeholder or placeholder.group(1) not in substitutions:
                raise ModelError(
                    f"{what}: task {name} calls {target!r}, not a substituted function"
                )
            function = substitutions[placeholder.group(1)]
        transitions = [(state[key], "") for key in ("Next", "Default") if key in state]
        transitions += [(c["Next"], _choice(c)) for c in state.get("Choices", [])]
        transitions += [
            (c["Next"], "catch " + ", ".join(c["ErrorEquals"])) for c in state.get("Catch", [])
        ]
        if state["Type"] in ("Parallel", "Map"):
            raise ModelError(f"{what}: {state['Type']} states are not drawn by the generator yet")
        ends = state.get("End", False) or state["Type"] in ("Succeed", "Fail")
        states.append(State(name, state["Type"], function, transitions, ends))
    return states


def _choice(choice):
    operators = [k for k in choice if k not in ("Variable", "Next")]
    if len(operators) != 1 or "Variable" not in choice:
        return "choice"
    return f"{choice['Variable']} {operators[0]} {json.dumps(choice[operators[0]])}"


def _workflow_type(kind, parameters):
    """The workflow type as the page says it: a parameter's default and its choices."""
    if isinstance(kind, dict) and set(kind) == {"Ref"} and kind["Ref"] in parameters:
        parameter = parameters[kind["Ref"]]
        choices = " or ".join(parameter.get("AllowedValues", []))
        return f"{parameter.get('Default', '')} (template parameter {kind['Ref']}: {choices})"
    if not isinstance(kind, str):
        raise ModelError(f"a state machine's type is neither a word nor a parameter: {kind}")
    return kind


def _machines(expanded, resources, aliases, local_files, template_dir, parameters):
    machines = []
    for logical_id, resource in expanded.items():
        if resource["Type"] != "AWS::StepFunctions::StateMachine":
            continue
        props = resource["Properties"]
        path = local_files.get((logical_id, "DefinitionUri"))
        if path is None:
            raise ModelError(f"{logical_id}: only a DefinitionUri to a local file is understood")
        definition = json.loads(path.read_text())
        substitutions = {
            name: _function(value, resources, aliases, f"{logical_id} substitution {name}")
            for name, value in props.get("DefinitionSubstitutions", {}).items()
        }
        machines.append(
            StateMachine(
                logical_id=logical_id,
                kind=_workflow_type(props.get("StateMachineType", "STANDARD"), parameters),
                # As the pages link it: beside infra/template.yaml in the repository.
                definition="infra/" + path.relative_to(template_dir).as_posix(),
                start=definition["StartAt"],
                states=_states(definition, substitutions, logical_id),
            )
        )
    return sorted(machines, key=lambda m: m.logical_id)


def _tables(expanded):
    tables = {}
    for logical_id, resource in expanded.items():
        if resource["Type"] != "AWS::DynamoDB::Table":
            continue
        props = resource["Properties"]
        ttl = props.get("TimeToLiveSpecification", {})
        tables[logical_id] = Table(
            logical_id=logical_id,
            keys=[f"{k['AttributeName']} ({k['KeyType'].lower()})" for k in props["KeySchema"]],
            stream=props.get("StreamSpecification", {}).get("StreamViewType"),
            ttl=ttl.get("AttributeName") if ttl.get("Enabled") else None,
            indexes=[i["IndexName"] for i in props.get("GlobalSecondaryIndexes", [])],
        )
    return tables


# ---------------------------------------------------------------- event schemas


def _resolve(schema, directory):
    """A schema with its `$ref` (a file beside it, optionally with a JSON pointer) followed."""
    if "$ref" not in schema:
        return schema
    file, _, pointer = schema["$ref"].partition("#")
    target = json.loads((directory / file).read_text())
    for part in filter(None, pointer.split("/")):
        target = target[part]
    return target


def _kind(schema):
    if "const" in schema:
        return "const " + json.dumps(schema["const"])
    if "enum" in schema:
        return "one of " + ", ".join(json.dumps(v) for v in schema["enum"])
    kind = schema.get("type", "any")
    if kind == "array":
        return "array of " + _resolve_kind(schema.get("items", {}))
    return kind if isinstance(kind, str) else " or ".join(kind)


def _resolve_kind(schema):
    return "objects" if schema.get("type") == "object" else _kind(schema)


NOTE_KEYWORDS = (
    "format",
    "pattern",
    "minimum",
    "maximum",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "contentEncoding",
)


def _notes(schema):
    notes = [f"{k} {json.dumps(schema[k])}" for k in NOTE_KEYWORDS if k in schema]
    if "description" in schema:
        notes.append(schema["description"])
    return "; ".join(notes)


def _fields(schema, directory, prefix=""):
    schema = _resolve(schema, directory)
    required = set(schema.get("required", []))
    rows = []
    for name, raw in schema.get("properties", {}).items():
        sub = _resolve(raw, directory)
        path = prefix + name
        rows.append(Field(path, _kind(sub), name in required, _notes(sub)))
        if sub.get("type") == "object":
            rows += _fields(sub, directory, path + ".")
        elif sub.get("type") == "array" and isinstance(sub.get("items"), dict):
            items = _resolve(sub["items"], directory)
            if items.get("type") == "object":
                rows += _fields(items, directory, path + "[].")
    return rows


SOURCE_SENTENCE = re.compile(r"\bSource: (shop\.[a-z][a-z-]*)\.")


def _events(directory):
    events, shared = {}, []
    for path in sorted(directory.glob("*.json")):
        schema = json.loads(path.read_text())
        props = schema.get("properties", {})
        name = props.get("type", {}).get("const")
        if name is None:
            shared.append(path.name)
            continue
        version = props.get("version", {})
        versions = [version["const"]] if "const" in version else list(version.get("enum", []))
        if not versions:
            raise ModelError(f"{path.name}: properties.version has neither const nor enum")
        description = schema.get("description", "")
        # The schemas say who publishes an event in one sentence, "Source: shop.<service>.";
        # the template then says which function may publish under that source.
        sources = SOURCE_SENTENCE.findall(description)
        envelope_notes = [
            f"`{key}`: {_notes(value) or _kind(value)}"
            if key != "sequence"
            else f"`sequence`: {_sequence(value)}"
            for key, value in props.items()
            if key not in ("type", "version", "data")
        ]
        events[name] = Event(
            name=name,
            versions=versions,
            source=sources[0] if len(sources) == 1 else None,
            description=description,
            # As the pages link it: the schemas' place in the repository.
            schema=f"events/schemas/{path.name}",
            envelope_notes=envelope_notes,
            fields=_fields(props.get("data", {}), directory),
        )
    return events, shared


def _sequence(schema):
    if "const" in schema:
        return f"always {schema['const']}"
    return _notes(schema)


# ---------------------------------------------------------------- devstack


def _find(path, pattern, what):
    found = re.search(pattern, path.read_text(), re.DOTALL)
    if not found:
        raise ModelError(
            f"{path.relative_to(ROOT)}: cannot find {what} (pattern {pattern!r}); update infra/docgen"
        )
    return found


def _local():
    src = ROOT / "localstack/devstack/src"
    main, stack, lib = src / "main.rs", src / "stack.rs", src / "lib.rs"
    flags = {
        option: flag
        for flag, option in re.findall(
            r'"(--[a-z-]+)" => cli\.options\.(\w+_port) =', main.read_text()
        )
    }
    if set(flags) != {"api_port", "https_port", "edge_port"}:
        raise ModelError(
            f"{main.relative_to(ROOT)}: cannot find the --port, --https-port and --edge-port flags"
        )
    # Every unchecked assumption below names the source line it rests on, so a change there
    # fails the generator instead of leaving a stale page.
    _find(src / "emulator.rs", r'\.env\("MOTO_PORT", edge_port', "MOTO_PORT set to the edge port")
    _find(
        stack, r"Emulator::start\([^;]*port_of\(&edge_listener\)", "moto started with the edge port"
    )
    _find(stack, r"let port = port_of\(&listen\(0\)", "moto on a free port")
    # The variables devstack sets itself, in the array that starts with the endpoint.
    block = _find(
        stack, r'let \w+ = \[\s*(\("AWS_ENDPOINT_URL".*?)\];', "the environment of a function"
    ).group(1)
    bindings = dict(re.findall(r"let (\w+) = ([^;]+);", stack.read_text()))
    env, why = [], ""
    for line in block.splitlines():
        comment = re.match(r"\s*// (.*)", line)
        pair = re.match(r'\s*\("([A-Z0-9_]+)",\s*(.+?)\),?\s*$', line)
        if comment:
            why = (why + " " + comment.group(1)).strip()
        elif pair:
            value = pair.group(2).lstrip("&")
            env.append((pair.group(1), value, bindings.get(value, ""), why))
            why = ""
    pool = src / "lambda/pool.rs"
    _find(
        pool, r'TcpListener::bind\("127\.0\.0\.1:0"\)', "a Runtime API per instance on a free port"
    )
    _find(src / "edge/mod.rs", r"\.fallback\(proxy\)", "the edge's proxy to the emulator")
    return Local(
        api_port=int(_find(main, r"options\.api_port = (\d+);", "the API's default port").group(1)),
        api_flag=flags["api_port"],
        https_port=int(
            _find(main, r"options\.https_port = (\d+);", "the HTTPS port's default").group(1)
        ),
        https_flag=flags["https_port"],
        ca_file=_find(stack, r'tls_dir: workspace\.join\("([^"]+)"\)', "the TLS folder").group(1)
        + "/"
        + _find(src / "tls.rs", r'pub const CA_FILE: &str = "([^"]+)"', "the CA file").group(1),
        edge_port=int(
            _find(main, r"options\.edge_port = (\d+);", "the edge's default port").group(1)
        ),
        edge_flag=flags["edge_port"],
        host=_find(
            stack, r'let edge_url = format!\("http://([\d.]+):', "the address devstack serves on"
        ).group(1),
        region=_find(lib, r'pub const REGION: &str = "([^"]+)"', "the region").group(1),
        account=_find(lib, r'pub const ACCOUNT: &str = "([^"]+)"', "the account").group(1),
        function_env=env,
        instance_env=sorted(set(re.findall(r'\.env\(\s*"([A-Z0-9_]+)"', pool.read_text()))),
        edge_routes=_edge_routes(src / "edge"),
    )


def _edge_routes(directory):
    """(path, methods) the edge answers itself; the rest goes to the emulator."""
    routes = []
    for path in sorted(directory.glob("*.rs")):
        for chunk in path.read_text().split(".route(")[1:]:
            route = re.match(r'\s*"([^"]+)",(.*)', chunk, re.DOTALL)
            if route:
                handlers = re.split(
                    r"\.(?:route|merge|fallback|with_state|layer)\(|;", route.group(2)
                )[0]
                methods = re.findall(r"\b(get|post|put|delete|patch)\(", handlers)
                routes.append((route.group(1), ", ".join(m.upper() for m in methods)))
    return sorted(set(routes))


# ---------------------------------------------------------------- all of it


def load(template_path=None, schemas_dir=None):
    template_path = Path(template_path or ROOT / "infra/template.yaml")
    schemas_dir = Path(schemas_dir or ROOT / "events/schemas")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    # The translator warns about its own feature toggles; nothing a reader of the docs can act on.
    logging.getLogger("samtranslator").setLevel(logging.ERROR)
    try:
        transformed, local_files = validate_template.expand(str(template_path))
    except validate_template.InvalidDocumentException as error:
        raise ModelError("; ".join(c.message for c in error.causes)) from error
    expanded = transformed["Resources"]
    resources = {i: r["Type"] for i, r in expanded.items()}
    aliases = _aliases(expanded, resources)
    envelope = json.loads((schemas_dir / "envelope.json").read_text())
    events, shared = _events(schemas_dir)
    return Model(
        stage_default=transformed.get("Parameters", {}).get("Stage", {}).get("Default", ""),
        resources=resources,
        properties={i: r.get("Properties", {}) for i, r in expanded.items()},
        functions=_functions(expanded, resources),
        routes=_routes(expanded, resources, aliases),
        rules=_rules(expanded, resources, aliases),
        streams=_streams(expanded, resources, aliases),
        invoke_configs=_invoke_configs(expanded, resources, aliases),
        machines=_machines(
            expanded,
            resources,
            aliases,
            local_files,
            template_path.resolve().parent,
            transformed.get("Parameters", {}),
        ),
        tables=_tables(expanded),
        queues=sorted(i for i, t in resources.items() if t == "AWS::SQS::Queue"),
        events=events,
        shared_schemas=shared,
        envelope=_fields(envelope, schemas_dir),
        local=_local(),
        outputs=transformed.get("Outputs", {}),
    )
