"""network.md: how requests reach the functions and what the functions call, on AWS (from the
template) and on devstack (from its sources)."""

from __future__ import annotations

from markdown import Flowchart, bullets, code, page, table
from model import Model, referenced_ids, shown

API = "AWS::ApiGatewayV2::Api"


def _api_facts(model: Model, api: str) -> list[str]:
    body = model.properties[api].get("Body", {})
    urls = [
        f"{code(shown(o['Value']).removeprefix('!Sub '))} (output {name})"
        for name, o in sorted(model.outputs.items())
        if api in referenced_ids(o.get("Value"), model.resources)
    ]
    facts = [
        f"{api}: an API Gateway HTTP API, reached over HTTPS at "
        + (", ".join(urls) or "its execute-api endpoint")
        + "."
    ]
    for scheme, definition in sorted(body.get("components", {}).get("securitySchemes", {}).items()):
        authorizer = definition.get("x-amazon-apigateway-authorizer", {})
        jwt = authorizer.get("jwtConfiguration", {})
        facts.append(
            f"Authorizer {scheme} ({authorizer.get('type')}): token from {code(authorizer.get('identitySource'))}, "
            f"issuer {code(shown(jwt.get('issuer')).removeprefix('!Sub '))}, audience "
            + ", ".join(code(shown(a)) for a in jwt.get("audience", []))
            + "; API Gateway fetches the issuer's JWKS itself."
        )
    public = sum(1 for r in model.routes if r.authorizer is None)
    facts.append(
        f"Routes: {len(model.routes)}, of which {public} public ([landscape.md](landscape.md) lists them)."
    )
    cors = body.get("x-amazon-apigateway-cors")
    if cors:
        facts.append(
            "CORS: origins "
            + ", ".join(cors.get("allowOrigins", []))
            + "; methods "
            + ", ".join(cors.get("allowMethods", []))
            + "; headers "
            + ", ".join(cors.get("allowHeaders", []))
            + "; exposed "
            + ", ".join(cors.get("exposeHeaders", []))
            + f"; preflight cached {cors.get('maxAge', 0)} s."
        )
    for stage in model.of_type("AWS::ApiGatewayV2::Stage"):
        props = model.properties[stage]
        if api not in referenced_ids(props.get("ApiId"), model.resources):
            continue
        settings = props.get("DefaultRouteSettings", {})
        if settings:
            facts.append(
                f"Stage {code(props.get('StageName'))}: throttled at {settings.get('ThrottlingRateLimit')} "
                f"requests/s, bursts of {settings.get('ThrottlingBurstLimit')}."
            )
        if "AccessLogSettings" in props:
            target = ", ".join(
                sorted(
                    referenced_ids(
                        props["AccessLogSettings"].get("DestinationArn"), model.resources
                    )
                )
            )
            facts.append(f"Access log: every request, into {target}.")
    return facts


def _endpoints(model: Model) -> list[list[str]]:
    rows = []
    for function_id, function in sorted(model.functions.items()):
        services = sorted(
            {
                a.split(":", 1)[0]
                for s in function.statements
                if s.effect == "Allow"
                for a in s.actions
                if ":" in a
            }
        )
        hosts = [code(f"{s}.<region>.amazonaws.com") for s in services]
        apis = sorted(
            a
            for a in model.of_type(API)
            if a in referenced_ids(function.environment, model.resources)
        )
        hosts += [f"{a} (HTTPS)" for a in apis]
        rows.append([function.binary, "<br/>".join(hosts) or "none"])
    return rows


def _aws(model: Model) -> str:
    in_vpc = sorted(f for f, function in model.functions.items() if function.in_vpc)
    vpc = (
        "No function is attached to a VPC: each reaches the AWS endpoints below over HTTPS "
        "on the public regional endpoints, signed with its own role's credentials."
        if not in_vpc
        else "In a VPC (they need endpoints or NAT for every AWS call): " + ", ".join(in_vpc) + "."
    )
    sections = ["## On AWS"]
    for api in model.of_type(API):
        sections.append(bullets(_api_facts(model, api)))
    sections += [
        vpc,
        (
            "The AWS endpoints each function calls itself, one per service its role grants actions "
            "in. Stream records, rule deliveries and failure destinations are Lambda's and "
            "EventBridge's own calls, not the functions'; logs and EMF metrics leave through "
            "standard output, traces through Lambda's X-Ray integration."
        ),
        table(["Function", "Calls"], _endpoints(model)),
    ]
    return "\n\n".join(sections)


def _local_chart(model: Model) -> str:
    local = model.local
    chart = Flowchart("LR")
    chart.node("client", "curl, tests, browser", "actor")
    chart.node("cli", "aws CLI, SDKs", "actor")
    chart.node(
        "gateway",
        f"gateway {local.host}:{local.api_port}, HTTPS on :{local.https_port}<br/>routes, JWT authorizer, CORS",
        "bus",
    )
    chart.node(
        "edge", f"edge {local.host}:{local.edge_port}<br/>Lambda API, devstack endpoints", "bus"
    )
    chart.node("moto", f"moto {local.host}:free port", "box")
    chart.node("functions", "function processes<br/>a Runtime API each, on a free port", "box")
    chart.edge("client", "gateway", "HTTPS or HTTP")
    chart.edge("cli", "edge", "AWS APIs")
    chart.edge("gateway", "functions", "payload 2.0 events")
    chart.edge("functions", "edge", "AWS_ENDPOINT_URL")
    chart.edge("edge", "moto", "every other call, after the role check")
    chart.edge("moto", "edge", "Step Functions tasks, to MOTO_PORT", dotted=True)
    chart.edge("edge", "functions", "Invoke")
    return chart.render()


def _value(model: Model, expression: str, binding: str) -> str:
    local = model.local
    known = {
        "edge_url": f"http://{local.host}:{local.edge_port}",
        "crate::REGION": local.region,
    }
    if expression in known:
        return code(known[expression])
    if expression.startswith('"') and expression.endswith('"'):
        return code(expression.strip('"'))
    return f"{code(binding or expression)} (devstack)"


def _local(model: Model) -> str:
    local = model.local
    ports = [
        [code(local.api_port), "the HTTP API (the gateway)", code(local.api_flag)],
        [
            code(local.https_port),
            f"the same API over HTTPS, its certificate issued by the local CA {code(local.ca_file)} "
            "(created on the first start, then kept); the stack's own functions are given the "
            "plain-HTTP URL",
            code(local.https_flag),
        ],
        [
            code(local.edge_port),
            "the AWS edge: every AWS API, one port; the Lambda Invoke API and devstack's endpoints are answered here, the rest is passed to moto after checking the caller's role",
            code(local.edge_flag),
        ],
        [
            "free",
            "moto, started with `MOTO_PORT` = the edge's port so Step Functions' Lambda tasks come back to the edge",
            "`--endpoint` to use a running emulator instead",
        ],
        [
            "free, per instance",
            "the Lambda Runtime API of each function process (`AWS_LAMBDA_RUNTIME_API`)",
            "",
        ],
    ]
    env = [
        [code(name), _value(model, value, binding), why]
        for name, value, binding, why in local.function_env
    ]
    routes = [[code(path), methods] for path, methods in local.edge_routes]
    return "\n\n".join(
        [
            "## Locally (devstack)",
            (
                f"Everything listens on {local.host} only; region {code(local.region)}, account {code(local.account)}. "
                "`0` as a port picks a free one (the system tests do)."
            ),
            table(["Port", "What", "Flag"], ports),
            _local_chart(model),
            "The environment of every function process: devstack's variables first, then the "
            "template's `Environment.Variables` (see [dependencies.md](dependencies.md)); per "
            "instance also " + ", ".join(code(n) for n in local.instance_env) + ".",
            table(["Variable", "Value", "Why"], env),
            "What the edge answers itself (everything else goes to moto):",
            table(["Path", "Methods"], routes),
        ]
    )


def render(model: Model) -> str:
    intro = (
        "How requests reach the functions and what the functions call: on AWS from "
        "`infra/template.yaml`, locally from devstack's sources (`localstack/devstack/src/`: "
        "`main.rs` for the ports and flags, `stack.rs` for the environment, `edge/` for what "
        "the edge answers). How to run it: [local-development.md](../local-development.md)."
    )
    return page("Network and ports", intro, _aws(model), _local(model))
