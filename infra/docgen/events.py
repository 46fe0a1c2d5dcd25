"""events.md: every integration event, its versions and fields, who may publish it and who
receives it, and the gaps between the two."""

from __future__ import annotations

from landscape import pattern_text
from markdown import Flowchart, bullets, code, page, table
from model import Model
from relations import consumers, emitters, event_flows, findings, is_recorder, pattern_matches

SCHEMAS = "../../events/schemas"


def _anchor(name: str) -> str:
    return name.lower()


def _emitted_by(model: Model, name: str) -> list[str]:
    shown = []
    for function_id in emitters(model, name):
        streams = [m.source for m in model.streams if m.function == function_id]
        via = f" (from {', '.join(streams)}'s stream)" if streams else ""
        shown.append(f"{model.functions[function_id].binary}{via}")
    return shown


def _consumed_by(model: Model, name: str) -> tuple[list[str], list[str]]:
    acting, recording = [], []
    for rule, target in consumers(model, name):
        if is_recorder(model, target.resource):
            recording.append(f"{target.resource} (rule {rule.logical_id})")
            continue
        function = model.functions.get(target.resource)
        who = function.binary if function else target.resource
        acting.append(f"{who} (rule {rule.logical_id})")
    event = model.events[name]
    for archive in model.of_type("AWS::Events::Archive"):
        props = model.properties[archive]
        pattern = props.get("EventPattern")
        if event.source and (pattern is None or pattern_matches(pattern, event.source, name)):
            recording.append(f"{archive} (archive, {props.get('RetentionDays', 'forever')} days)")
    return acting, recording


def _summary(model: Model) -> str:
    rows = []
    for name, event in sorted(model.events.items()):
        acting, _ = _consumed_by(model, name)
        rows.append(
            [
                f"[{name}](#{_anchor(name)})",
                ", ".join(str(v) for v in event.versions),
                event.source or "**none**",
                "<br/>".join(_emitted_by(model, name)) or "**nobody**",
                "<br/>".join(a.split(" (")[0] for a in acting) or "event log only",
            ]
        )
    return table(["Event", "Version", "Source", "Published by", "Consumed by"], rows)


def _flows(model: Model) -> str:
    chart = Flowchart("LR")
    for service in model.services():
        chart.node(f"svc_{service}", service, "service")
    for (sender, receiver), names in event_flows(model).items():
        chart.edge(f"svc_{sender}", f"svc_{receiver}", "<br/>".join(names))
    return chart.render()


def _cross_check(model: Model) -> str:
    found = findings(model)
    errors = [f.text for f in found if f.level == "error"]
    notes = [f.text for f in found if f.level == "note"]
    return "\n\n".join(
        [
            "## Cross-check",
            (
                "An event a rule waits for must have a schema, come from the source the rule names, "
                "and have a function allowed to publish it; every schema must name its source, and "
                "some function must be allowed to publish under it. A failure here fails "
                "`make docs-check`. An event nobody but the event log receives is only noted: it "
                "is kept for the audit trail and the archive, and a later consumer can subscribe."
            ),
            "Errors:",
            bullets(errors),
            "Notes:",
            bullets(notes),
        ]
    )


def _event_section(model: Model, name: str) -> str:
    event = model.events[name]
    acting, recording = _consumed_by(model, name)
    fields = [[code(f.path), f.kind, "yes" if f.required else "", f.notes] for f in event.fields]
    facts = [
        (
            f"Schema: [{event.schema}]({SCHEMAS}/{event.schema.rsplit('/', 1)[-1]}); "
            f"version {', '.join(str(v) for v in event.versions)}; source `{event.source}`."
        ),
        "Published by: "
        + (", ".join(_emitted_by(model, name)) or "**nobody may publish it**")
        + ".",
        "Consumed by: " + (", ".join(acting) or "no rule but the event log") + ".",
    ]
    if recording:
        facts.append("Recorded by: " + ", ".join(recording) + ".")
    if event.envelope_notes:
        facts.append("Envelope: " + "; ".join(event.envelope_notes) + ".")
    return "\n\n".join(
        [
            f"### {name}",
            event.description,
            bullets(facts),
            table(["Field of `data`", "Type", "Required", "Notes"], fields),
        ]
    )


def render(model: Model) -> str:
    intro = (
        "Every integration event in `events/schemas/`, with the functions allowed to publish "
        "it and the rules that deliver it. The source of an event is the schema's "
        '"Source: shop.<service>." sentence; who may publish it is read from the functions\' '
        "roles (`events:PutEvents` under a condition on `events:source`, and on "
        "`events:detail-type` where a role names one); who receives it is every rule whose "
        "pattern matches its source and type. Landscape: [landscape.md](landscape.md)."
    )
    envelope = table(
        ["Envelope field", "Type", "Required", "Notes"],
        [[code(f.path), f.kind, "yes" if f.required else "", f.notes] for f in model.envelope],
    )
    rules = [
        [r.logical_id, pattern_text(r.pattern), ", ".join(t.resource for t in r.targets)]
        for r in model.rules
        if r.pattern is not None
    ]
    return page(
        "Event catalogue",
        intro,
        _summary(model),
        "## Between services\n\nWho publishes what to whom, through the bus's rules:",
        _flows(model),
        _cross_check(model),
        "## The envelope\n\nThe `detail` of every event ([envelope.json]("
        + SCHEMAS
        + "/envelope.json)); shared definitions: "
        + ", ".join(f"[{s}]({SCHEMAS}/{s})" for s in model.shared_schemas if s != "envelope.json")
        + ".",
        envelope,
        "## Rules on the bus",
        table(["Rule", "Pattern", "Targets"], rules),
        "## Events",
        *[_event_section(model, n) for n in sorted(model.events)],
    )
