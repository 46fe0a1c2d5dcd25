#!/usr/bin/env bash
# LocalStack init hook (runs when LocalStack is ready): deploys the SAM application that
# `sam build --beta-features` built on the host into .aws-sam/build. Not exercised here; see
# docker-compose.yml.
set -euo pipefail
[ "${DEPLOY_ON_START:-0}" = "1" ] || { echo "shop: DEPLOY_ON_START is not 1; nothing deployed"; exit 0; }
if [ ! -f /workspace/.aws-sam/build/template.yaml ]; then
    echo "shop: run 'sam build --beta-features' on the host first" >&2
    exit 1
fi
pip install --quiet aws-sam-cli-local
cd /workspace
samlocal deploy \
    --template-file .aws-sam/build/template.yaml \
    --stack-name shop-local \
    --resolve-s3 \
    --capabilities CAPABILITY_IAM \
    --no-confirm-changeset \
    --parameter-overrides Stage=local
