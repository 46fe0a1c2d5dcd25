"""Runs infra/template.yaml through the SAM transform offline.

cfn-lint does not expand SAM resources, so it misses errors in function events (an unknown
property, a bad event type). The transform that CloudFormation runs at deploy time catches
them; this runs it locally with local code paths swapped for placeholder S3 locations.
"""

import logging
import sys
from pathlib import Path

import yaml
from samtranslator.model.exceptions import InvalidDocumentException
from samtranslator.translator.managed_policy_translator import ManagedPolicyLoader
from samtranslator.translator.transform import transform

# Offline, the transform has no feature-toggle configuration; it warns for every
# DeploymentPreference and then takes the default, as the hosted transform does.
logging.getLogger("samtranslator.feature_toggle").setLevel(logging.ERROR)


class CloudFormationLoader(yaml.SafeLoader):
    """Reads the short-form intrinsic tags (!Ref, !Sub, ...) as their long form."""


def _intrinsic(loader, tag_suffix, node):
    name = "Ref" if tag_suffix == "Ref" else f"Fn::{tag_suffix}"
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if tag_suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


CloudFormationLoader.add_multi_constructor("!", _intrinsic)


class OfflinePolicies(ManagedPolicyLoader):
    """Answers managed-policy lookups without calling IAM."""

    def __init__(self):
        super().__init__(iam_client=None)

    def load(self):
        return {}


# CloudFormation refuses a stack of more than 500 resources; the budget keeps room to grow
# before a split into nested stacks is due.
RESOURCE_BUDGET = 400


def expand(path):
    """The template after the SAM transform, and the local files its CodeUri and DefinitionUri
    named (by logical id), which the transform replaces with placeholders.

    Raises InvalidDocumentException where CloudFormation's transform would refuse the template.
    """
    template = yaml.load(Path(path).read_text(), Loader=CloudFormationLoader)
    local_files = {}
    for logical_id, resource in template["Resources"].items():
        props = resource.get("Properties", {})
        for key in ("CodeUri", "DefinitionUri"):
            if isinstance(props.get(key), str) and not props[key].startswith("s3://"):
                local = (Path(path).parent / props[key]).resolve()
                if not local.exists():
                    sys.exit(f"{key} {props[key]} does not exist ({local})")
                local_files[(logical_id, key)] = local
                props[key] = "s3://placeholder/code.zip"
    return transform(template, {}, OfflinePolicies()), local_files


def main(path):
    try:
        expanded, _ = expand(path)
    except InvalidDocumentException as error:
        for cause in error.causes:
            print(f"SAM transform: {cause.message}", file=sys.stderr)
        sys.exit(1)
    count = len(expanded["Resources"])
    if count > RESOURCE_BUDGET:
        sys.exit(
            f"{path}: {count} resources after the SAM transform, over the budget of "
            f"{RESOURCE_BUDGET} (CloudFormation refuses a stack of more than 500): split a "
            "service into a nested stack"
        )
    print(f"{path}: SAM transform OK, {count} resources (budget {RESOURCE_BUDGET} of CloudFormation's 500)")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "infra/template.yaml")
