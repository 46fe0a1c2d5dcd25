"""Checks what `sam build` left in its build dir and prints what each function would upload.

Every AWS::Serverless::Function of the template must have `<build dir>/<LogicalId>/bootstrap`,
an ELF executable for the asked architecture (read from its header, not from the template: a
build that silently fell back to the host's instruction set fails here). With --cargo-target-dir
each bootstrap must also be byte for byte the one cargo-lambda wrote there for that function's
binary, which proves SAM copied the binary this build made and not a stale one from elsewhere.

The zipped size is the bootstrap alone in a deflate zip, as `sam package` uploads it; Lambda
limits the zip to 50 MB for a direct upload and to 250 MB unzipped.

Usage: sam_build_report.py TEMPLATE BUILD_DIR --arch arm64|x86_64 [--seconds N]
       [--cargo-target-dir DIR] [LogicalId ...]   (only those functions, for a partial build)
"""

import argparse
import io
import sys
import zipfile
from pathlib import Path

import yaml

# ELF e_machine values (System V ABI): what the bootstrap was compiled for.
ELF_MACHINES = {0xB7: "arm64", 0x3E: "x86_64"}
LAMBDA_ZIP_LIMIT = 50 * 1000 * 1000


class CloudFormationLoader(yaml.SafeLoader):
    """Reads CloudFormation's short-form tags (`!Ref`, `!Sub`...) as plain values."""


def _any_tag(loader, _suffix, node):
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_mapping(node)


CloudFormationLoader.add_multi_constructor("!", _any_tag)


def functions_of(template_path):
    """(LogicalId, binary name) of every AWS::Serverless::Function, in template order."""
    template = yaml.load(Path(template_path).read_text(), Loader=CloudFormationLoader)
    found = []
    for logical_id, resource in template["Resources"].items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        binary = (resource.get("Metadata") or {}).get("BuildProperties", {}).get("Binary")
        found.append((logical_id, binary))
    return found


def elf_architecture(path):
    header = path.read_bytes()[:20]
    if header[:4] != b"\x7fELF":
        return "not ELF"
    # e_machine is the little-endian u16 at offset 18 of both ELF32 and ELF64 headers.
    machine = int.from_bytes(header[18:20], "little")
    return ELF_MACHINES.get(machine, f"machine {machine:#x}")


def zipped_size(path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.write(path, arcname="bootstrap")
    return len(buffer.getvalue())


def megabytes(size):
    return f"{size / 1_000_000:.2f} MB"


def check_function(logical_id, binary, args):
    """One table row, the problems found with this function's artifact, and its zipped size."""
    bootstrap = Path(args.build_dir) / logical_id / "bootstrap"
    if not bootstrap.is_file():
        return [logical_id, binary or "?", "-", "-", "-"], [f"{logical_id}: no {bootstrap}"], 0
    problems = []
    architecture = elf_architecture(bootstrap)
    if architecture != args.arch:
        problems.append(f"{logical_id}: bootstrap is {architecture}, asked for {args.arch}")
    if args.cargo_target_dir and binary:
        built = Path(args.cargo_target_dir) / "lambda" / binary / "bootstrap"
        if not built.is_file() or built.read_bytes() != bootstrap.read_bytes():
            problems.append(f"{logical_id}: bootstrap differs from {built}")
    size = bootstrap.stat().st_size
    zipped = zipped_size(bootstrap)
    if zipped > LAMBDA_ZIP_LIMIT:
        problems.append(f"{logical_id}: zip of {megabytes(zipped)} is over Lambda's 50 MB upload")
    row = [logical_id, binary or "?", architecture, megabytes(size), megabytes(zipped)]
    return row, problems, zipped


def print_table(rows):
    header = ["Function", "Binary", "Architecture", "bootstrap", "zipped (deflate)"]
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, ["-" * width for width in widths], *rows]:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)).rstrip())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("template")
    parser.add_argument("build_dir")
    parser.add_argument("--arch", required=True, choices=sorted(ELF_MACHINES.values()))
    parser.add_argument("--seconds", type=int, help="how long sam build took")
    parser.add_argument("--cargo-target-dir")
    parser.add_argument("only", nargs="*", help="check only these LogicalIds")
    args = parser.parse_intermixed_args()

    functions = functions_of(args.template)
    unknown = set(args.only) - {logical_id for logical_id, _ in functions}
    if unknown:
        sys.exit(f"not functions of {args.template}: {', '.join(sorted(unknown))}")
    if args.only:
        functions = [function for function in functions if function[0] in args.only]

    rows, problems, zipped_total = [], [], 0
    for logical_id, binary in functions:
        row, found, zipped = check_function(logical_id, binary, args)
        rows.append(row)
        problems.extend(found)
        zipped_total += zipped
    print_table(rows)

    print(f"\n{len(rows)} functions, {args.arch}, {megabytes(zipped_total)} zipped in all")
    if args.seconds is not None:
        minutes, seconds = divmod(args.seconds, 60)
        print(f"sam build took {minutes} min {seconds} s")
    for problem in problems:
        print(f"FAIL {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
