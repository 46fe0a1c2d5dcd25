#!/usr/bin/env bash
# `make deploy STAGE=<stage> [PARAMETERS="Key=Value ..."]`: sam deploy of what `make sam-build`
# left in target/sam-build, as the stack shop-<stage> with Stage=<stage>. It builds nothing:
# CI builds once and deploys the same build to dev, then to prod.
#
# From the environment (in CI the repository's variables, i.e. the outputs of
# infra/bootstrap/github-oidc.yaml):
#   SAM_ARTIFACTS_BUCKET    where the code is uploaded (unset: SAM's own managed bucket,
#                           --resolve-s3, for a person deploying with their own credentials)
#   CFN_EXECUTION_ROLE_ARN  the role CloudFormation runs the change as (unset: the caller's
#                           own credentials; the GitHub deploy role may only pass this one)
# AWS credentials and region come from the environment as well. SAM_BUILD_DIR deploys another
# build's output (default target/sam-build).
set -euo pipefail

cd "$(dirname "$0")/.."
stage=${1:-}
shift || true
build_dir=${SAM_BUILD_DIR:-target/sam-build}

if ! [[ $stage =~ ^[a-z0-9-]+$ ]]; then
    echo "STAGE=<stage> ([a-z0-9-]+) is required: make deploy STAGE=dev" >&2
    exit 2
fi
if [ ! -f "$build_dir/template.yaml" ]; then
    echo "no $build_dir/template.yaml: run make sam-build first" >&2
    exit 2
fi

# The template's Architecture must be the one the binaries were built for (make sam-build
# picks it from the installed rustup targets), so it is read from a built bootstrap's ELF
# header (e_machine at offset 18, little-endian) rather than asked for again.
bootstrap=$(find "$build_dir" -name bootstrap -type f -print -quit)
if [ -z "$bootstrap" ]; then
    echo "no function bootstrap under $build_dir: the build is incomplete" >&2
    exit 2
fi
case $(od -An -tx1 -j18 -N2 "$bootstrap" | tr -d ' \n') in
    b700) arch=arm64 ;;
    3e00) arch=x86_64 ;;
    *) echo "$bootstrap is neither an arm64 nor an x86_64 ELF binary" >&2; exit 2 ;;
esac

# GitHub's artifacts do not keep file modes, and SAM zips a function's files with the modes it
# finds (adding only read bits): a bootstrap that is not executable fails every invocation.
find "$build_dir" -name bootstrap -type f -exec chmod 0755 {} +

# AWS_REGION first, as configure-aws-credentials and the Rust SDK read it: the Makefile gives
# AWS_DEFAULT_REGION a default of its own, which must not win over the one asked for.
region=${AWS_REGION:-${AWS_DEFAULT_REGION:-}}
if [ -z "$region" ]; then
    echo "no AWS region: set AWS_REGION" >&2
    exit 2
fi

upload=(--resolve-s3)
if [ -n "${SAM_ARTIFACTS_BUCKET:-}" ]; then
    upload=(--s3-bucket "$SAM_ARTIFACTS_BUCKET" --s3-prefix "shop-$stage")
fi
role=()
if [ -n "${CFN_EXECUTION_ROLE_ARN:-}" ]; then
    role=(--role-arn "$CFN_EXECUTION_ROLE_ARN")
fi

echo "==> sam deploy of $build_dir ($arch) as shop-$stage in $region"
# samconfig.toml is not read: SAM looks for it beside the template, and target/sam-build has
# none, so everything a deploy depends on is on this command line.
SAM_CLI_TELEMETRY=0 .venv-sam/bin/sam deploy \
    --template-file "$build_dir/template.yaml" \
    --stack-name "shop-$stage" \
    --region "$region" \
    --capabilities CAPABILITY_IAM \
    --parameter-overrides "Stage=$stage Architecture=$arch $*" \
    "${upload[@]}" \
    "${role[@]}" \
    --no-confirm-changeset \
    --no-fail-on-empty-changeset
