#!/usr/bin/env bash
# `make deploy-function FN=<LogicalId> STAGE=<stage> [ARCH=arm64|x86_64]`: one function's new
# code on a running stage in about a minute, without a `sam deploy`. It builds the function's
# binary, finds the deployed function's physical name in the stage's stack, and runs
# `cargo lambda deploy`, which uploads the code, publishes a version and, for a function with
# AutoPublishAlias, moves that alias (the one the API invokes) to it at once.
#
# That is drift: CloudFormation still records the version it published, and CodeDeploy's
# canary and alarm rollback are skipped. The next `make deploy` publishes from the repository
# again and moves the alias back through CodeDeploy. So it is refused on prod.
#
# STAGE=local deploys to the running devstack (`make run`) instead: a debug build of the host,
# the edge at AWS_ENDPOINT_URL (default http://localhost:4566), and devstack's function names.
set -euo pipefail

cd "$(dirname "$0")/.."
fn=${1:-}
stage=${2:-}
arch=${3:-arm64}
cargo_lambda=.venv/bin/cargo-lambda

if [ -z "$fn" ] || ! [[ $stage =~ ^[a-z0-9-]+$ ]]; then
    echo "usage: make deploy-function FN=<LogicalId> STAGE=<stage> [ARCH=arm64|x86_64]" >&2
    exit 2
fi
if [ "$stage" = prod ]; then
    echo "refused: prod changes only through make deploy (CodeDeploy's canary and rollback, no drift)" >&2
    exit 2
fi

# The binary and the alias come from the template, as sam build and devstack read them.
read -r binary alias < <(.venv/bin/python - "$fn" <<'EOF'
import sys
from cfnlint.decode import cfn_yaml
resources = cfn_yaml.load("infra/template.yaml")["Resources"]
function = resources.get(sys.argv[1])
if not function or function.get("Type") != "AWS::Serverless::Function":
    sys.exit(f"{sys.argv[1]} is not a function of infra/template.yaml")
print(function["Metadata"]["BuildProperties"]["Binary"],
      function["Properties"].get("AutoPublishAlias", "-"))
EOF
)
alias_args=()
[ "$alias" != "-" ] && alias_args=(--alias "$alias")
revision=$(git describe --always --dirty 2>/dev/null || echo unknown)
description="make deploy-function from $revision: drift until the next make deploy"

if [ "$stage" = local ]; then
    endpoint=${AWS_ENDPOINT_URL:-http://localhost:4566}
    name=shop-local-$fn
    # The selection make build and make test use, so nothing else is rebuilt (see the Makefile).
    cargo build --workspace --bins --tests --locked
    target_dir=$(cargo metadata --format-version 1 --no-deps | .venv/bin/python -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
    AWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID:-deployer} AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY:-test} \
        "$cargo_lambda" lambda deploy --endpoint-url "$endpoint" --region "${AWS_DEFAULT_REGION:-us-east-1}" \
        --binary-path "$target_dir/debug/$binary" --description "$description" "${alias_args[@]}" "$name"
    exit 0
fi

case $arch in
    arm64) build_flag=--arm64 ;;
    x86_64) build_flag=--x86-64 ;;
    *) echo "ARCH must be arm64 or x86_64" >&2; exit 2 ;;
esac
name=$(aws cloudformation describe-stack-resource --stack-name "shop-$stage" --logical-resource-id "$fn" \
    --query StackResourceDetail.PhysicalResourceId --output text)
deployed_arch=$(aws lambda get-function-configuration --function-name "$name" --query 'Architectures[0]' --output text)
if [ "$deployed_arch" != "$arch" ]; then
    echo "refused: $name runs on $deployed_arch, this build would be $arch (ARCH=$deployed_arch)" >&2
    exit 2
fi
# The release build links with zig, which .venv-sam has (make sam-build's venv).
PATH="$PWD/.venv-sam/bin:$PATH" .venv-sam/bin/cargo-lambda lambda build --release "$build_flag" --bin "$binary"
"$cargo_lambda" lambda deploy --binary-name "$binary" --description "$description" \
    "${alias_args[@]}" "$name"
echo "$fn ($name) now runs $revision; the next make deploy STAGE=$stage replaces it"
