"""The system tests against a deployed stage (`make system-tests-stage STAGE=dev`).

A deployed stage publishes its endpoints as SSM parameters under /shop/<stage>/ (the
`AWS::SSM::Parameter` resources of infra/template.yaml). From them this script writes the
stack file the system tests read in place of devstack's `stack.json`, with two users it keeps
in the stage's user pool (an admin and a customer, created on first use, their password new on
every run, signed in through the stage's own /auth/login), then runs the tests that
tests/stage-tests.txt lists and checks that each of them ran.

    stage.py stack-file --stage dev [--out FILE]   write the stack file only
    stage.py run --stage dev                       the stack file, then the listed tests
    stage.py check                                 every listed test exists in its suite

AWS credentials and region come from the environment (in CI, the system-test role).
AWS_ENDPOINT_URL, when set, points boto3 and the tests at an emulator instead: that is how
this script is tried on devstack (`make run`, then `tests/stage.py run --stage local`).
"""

import argparse
import json
import os
import re
import secrets
import string
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

WORKSPACE = Path(__file__).resolve().parent.parent
STAGE_TESTS = WORKSPACE / "tests/stage-tests.txt"
STAGE_NAME = re.compile(r"^[a-z0-9-]+$")

# The parameters the tests need, by their path under /shop/<stage>/.
REQUIRED = {
    "api_url": "api/url",
    "user_pool_id": "auth/user-pool-id",
    "user_pool_client_id": "auth/user-pool-client-id",
    "place_order_state_machine": "orders/place-order-state-machine",
}

# Kept across runs (one pair per pool, not one per run); example.com receives no mail, and
# Cognito sends none to a user created with MessageAction SUPPRESS.
USERS = {
    "admin": ("system-tests-admin@example.com", "System Tests Admin"),
    "customer": ("system-tests-customer@example.com", "System Tests Customer"),
}


class StageError(Exception):
    """Something the stage lacks or refused, said so a person can act on it."""


def read_list(path: Path = STAGE_TESTS) -> list[tuple[str, str]]:
    """The (suite, test) pairs of the list, in order; blank lines and # comments skipped."""
    pairs = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        words = line.split()
        if len(words) != 2:
            raise StageError(f"{path.name}:{number}: expected `<suite> <test>`, got {line!r}")
        pairs.append((words[0], words[1]))
    if len(set(name for _, name in pairs)) != len(pairs):
        raise StageError(f"{path.name}: a test is listed twice (names must be unique)")
    return pairs


def missing_tests(pairs: list[tuple[str, str]], tests_dir: Path) -> list[str]:
    """Listed tests that are not a `#[tokio::test]`/`#[test]` function of their suite."""
    missing = []
    for suite, name in pairs:
        source = tests_dir / f"{suite}.rs"
        text = source.read_text() if source.exists() else ""
        test_fn = re.compile(
            r"#\[(?:tokio::)?test\]\s*(?:async\s+)?fn\s+" + re.escape(name) + r"\s*\("
        )
        if not test_fn.search(text):
            missing.append(f"{suite} {name}")
    return missing


def discovery(parameters: dict[str, str], stage: str) -> dict[str, str]:
    """The stack file's endpoint fields from the stage's parameters (name -> value)."""
    prefix = f"/shop/{stage}/"
    found = {}
    absent = []
    for field, path in REQUIRED.items():
        value = parameters.get(prefix + path)
        if value:
            found[field] = value
        else:
            absent.append(prefix + path)
    if absent:
        raise StageError(
            f"the stage {stage!r} publishes no {', '.join(absent)}: is shop-{stage} deployed "
            "in this account and region?"
        )
    found["api_url"] = found["api_url"].rstrip("/")
    return found


def new_password() -> str:
    """A password the pool's policy accepts whatever classes it requires: 32 characters."""
    required = [
        secrets.choice(characters)
        for characters in (string.ascii_uppercase, string.ascii_lowercase, string.digits, "-_.!")
    ]
    rest = [secrets.choice(string.ascii_letters + string.digits) for _ in range(28)]
    return "".join(rest + required)


def stage_parameters(ssm, stage: str) -> dict[str, str]:
    """Every parameter under /shop/<stage>/, by name."""
    parameters = {}
    for page in ssm.get_paginator("get_parameters_by_path").paginate(
        Path=f"/shop/{stage}/", Recursive=True
    ):
        for parameter in page["Parameters"]:
            parameters[parameter["Name"]] = parameter["Value"]
    return parameters


def keep_user(cognito, pool: str, email: str, name: str, group: str, password: str) -> None:
    """The user exists, confirmed, in `group`, with `password`."""
    try:
        cognito.admin_create_user(
            UserPoolId=pool,
            Username=email,
            MessageAction="SUPPRESS",
            UserAttributes=[
                {"Name": "email", "Value": email},
                {"Name": "email_verified", "Value": "true"},
                {"Name": "name", "Value": name},
            ],
        )
    except cognito.exceptions.UsernameExistsException:
        pass
    cognito.admin_set_user_password(
        UserPoolId=pool, Username=email, Password=password, Permanent=True
    )
    cognito.admin_add_user_to_group(UserPoolId=pool, Username=email, GroupName=group)


def login(api_url: str, email: str, password: str) -> dict:
    """Tokens from the stage's own login, as a customer's app gets them."""
    request = urllib.request.Request(
        f"{api_url}/auth/login",
        data=json.dumps({"email": email, "password": password}).encode(),
        headers={"content-type": "application/json", "x-correlation-id": "system-tests-login"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)
    except urllib.error.HTTPError as error:
        raise StageError(
            f"POST {api_url}/auth/login as {email} answered {error.code}: {error.read()[:500]!r}"
        ) from error


def write_stack_file(stage: str, out: Path) -> dict:
    """Discovers the stage, keeps its test users, and writes the stack file; returns it."""
    import boto3  # the project venv's; only the stage commands need it

    # AWS_REGION first, as the Rust SDK and configure-aws-credentials use it; the Makefile
    # defaults AWS_DEFAULT_REGION, which must not win over it.
    session = boto3.session.Session(region_name=os.environ.get("AWS_REGION") or None)
    if not session.region_name:
        raise StageError("no AWS region: set AWS_REGION (the workflow's AWS_REGION variable)")
    endpoints = discovery(stage_parameters(session.client("ssm"), stage), stage)
    cognito = session.client("cognito-idp")
    state = {
        **endpoints,
        "region": session.region_name,
        "stack_name": f"shop-{stage}",
        "stage": stage,
    }
    for group, (email, name) in USERS.items():
        password = new_password()
        keep_user(cognito, endpoints["user_pool_id"], email, name, group, password)
        tokens = login(endpoints["api_url"], email, password)
        state[group] = {
            "email": email,
            "groups": [group],
            "access_token": tokens["access_token"],
            "id_token": tokens["id_token"],
        }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(state, indent=2) + "\n")
    # The tokens are the test users' for an hour: readable by this account only.
    out.chmod(0o600)
    return state


PASSED = re.compile(r"^test result: \w+\. (\d+) passed; (\d+) failed")


def run_tests(stage: str, stack_file: Path, pairs: list[tuple[str, str]]) -> int:
    """Runs the listed tests against the stage; non-zero when one failed or did not run."""
    state = json.loads(stack_file.read_text())
    suites = sorted({suite for suite, _ in pairs})
    command = ["cargo", "test", "-p", "system-tests", "--locked"]
    for suite in suites:
        command += ["--test", suite]
    command += ["--", "--exact", *[name for _, name in pairs]]
    env = {
        **os.environ,
        "SHOP_API_URL": state["api_url"],
        "SHOP_STACK_FILE": str(stack_file),
        "SHOP_STACK_NAME": state["stack_name"],
    }
    print(f"==> {len(pairs)} system tests against {stage} ({state['api_url']})", flush=True)
    process = subprocess.Popen(
        command, cwd=WORKSPACE, env=env, stdout=subprocess.PIPE, stderr=None, text=True
    )
    passed = failed = 0
    assert process.stdout is not None
    for line in process.stdout:
        print(line, end="", flush=True)
        match = PASSED.match(line.strip())
        if match:
            passed += int(match.group(1))
            failed += int(match.group(2))
    code = process.wait()
    if code != 0:
        return code
    if passed != len(pairs) or failed:
        print(
            f"{passed} of the {len(pairs)} listed tests passed ({failed} failed): a listed "
            "test was renamed or filtered out",
            file=sys.stderr,
        )
        return 1
    print(f"==> {passed} passed, 0 failed against {stage}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("stack-file", "run"):
        command = commands.add_parser(name)
        command.add_argument("--stage", required=True)
        command.add_argument("--out", type=Path)
    commands.add_parser("check")
    args = parser.parse_args()
    try:
        pairs = read_list()
        if args.command == "check":
            missing = missing_tests(pairs, WORKSPACE / "tests/tests")
            for test in missing:
                print(f"{STAGE_TESTS.name} lists {test}, which its suite does not have", file=sys.stderr)
            if not missing:
                print(f"{STAGE_TESTS.name}: {len(pairs)} tests, each in its suite")
            return 1 if missing else 0
        if not STAGE_NAME.match(args.stage):
            raise StageError(f"a stage is [a-z0-9-]+, not {args.stage!r}")
        out = args.out or WORKSPACE / f"target/stage/{args.stage}/stack.json"
        write_stack_file(args.stage, out)
        print(f"==> {out}: {args.stage}'s endpoints and its two test users' tokens")
        if args.command == "run":
            return run_tests(args.stage, out, pairs)
        return 0
    except StageError as error:
        print(f"stage.py: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
