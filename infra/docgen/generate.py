"""Writes the generated architecture pages, or checks that the committed ones are current.

    python infra/docgen/generate.py            write docs/generated/ (`make docs`)
    python infra/docgen/generate.py --check    regenerate into a temporary folder and fail
                                               with a diff if docs/generated/ differs, or if
                                               the cross-check finds a gap (`make docs-check`)

It lives in infra/ beside validate_template.py because it is another reader of the template:
it imports the same offline SAM expansion and runs from the same venv. The pages go to
docs/generated/, apart from the hand-written docs, so nobody edits them by mistake.
"""

from __future__ import annotations

import argparse
import difflib
import os
import sys
import tempfile
from pathlib import Path

import dependencies
import landscape
import network
from model import ROOT, ModelError, load
from relations import findings

import events

PAGES = {
    "landscape.md": landscape.render,
    "events.md": events.render,
    "dependencies.md": dependencies.render,
    "network.md": network.render,
}
OUTPUT = ROOT / "docs/generated"


def write(model, directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name, render in PAGES.items():
        # Bytes, not text: the same bytes on every machine, whatever its locale or newline.
        (directory / name).write_bytes(render(model).encode("utf-8"))


def differences(expected: Path, actual: Path) -> list[str]:
    """A unified diff per page that differs, is missing, or should not be there."""
    lines = []
    names = sorted({p.name for p in expected.glob("*.md")} | {p.name for p in actual.glob("*.md")})
    for name in names:
        old = (
            (actual / name).read_text().splitlines(keepends=True)
            if (actual / name).exists()
            else []
        )
        new = (
            (expected / name).read_text().splitlines(keepends=True)
            if (expected / name).exists()
            else []
        )
        lines += difflib.unified_diff(old, new, f"committed/{name}", f"generated/{name}")
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--check", action="store_true", help="fail if the committed pages are stale"
    )
    parser.add_argument("--template", default=ROOT / "infra/template.yaml", type=Path)
    parser.add_argument("--schemas", default=ROOT / "events/schemas", type=Path)
    parser.add_argument(
        "--out", default=OUTPUT, type=Path, help="where the pages are (default docs/generated)"
    )
    args = parser.parse_args(argv)
    try:
        model = load(args.template, args.schemas)
    except ModelError as error:
        print(f"docs: {error}", file=sys.stderr)
        return 2
    errors = [f.text for f in findings(model) if f.level == "error"]
    for text in errors:
        print(f"docs: cross-check: {text}", file=sys.stderr)
    shown = os.path.relpath(args.out)
    if not args.check:
        write(model, args.out)
        print(f"docs: wrote {len(PAGES)} pages to {shown}")
        return 1 if errors else 0
    with tempfile.TemporaryDirectory() as scratch:
        write(model, Path(scratch))
        diff = differences(Path(scratch), args.out)
    if diff:
        sys.stdout.writelines(diff)
        print(f"docs: {shown} is stale: run `make docs` and commit the result", file=sys.stderr)
    else:
        print(f"docs: {shown} is current ({len(PAGES)} pages)")
    return 1 if diff or errors else 0


if __name__ == "__main__":
    sys.exit(main())
