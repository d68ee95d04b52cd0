"""The ``citereview`` command line: ``check``, ``queue``, ``stylesheet``, ``import``, ``verify``
and ``watch``.

Exit codes are the contract CI relies on: 0 clean, 1 content errors, 2 usage problems
(bad options, unreadable ``mkdocs.yml``, a subcommand whose module is not installed).
``import``, ``verify`` and ``watch`` live in their own modules and are imported only when used, so
that ``check`` keeps working in a checkout where they are missing or broken.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from ..core.findings import LEVELS
from ..core.project import extension_options
from ..mdext.stylesheet import DEFAULT_PREFIX, STYLESHEET_PATH, stylesheet, write_stylesheet
from ..mdext.templates import PREFIX_RE
from .check import FAILABLE_STATUSES, ConfigError, Project, format_result, run_check

#: Subcommands implemented elsewhere: name -> (module, one-line help).
DELEGATED: dict[str, tuple[str, str]] = {
    "import": ("citereview.cli.importer", "add references from a Zotero export (FILE) or by --doi / --pmid"),
    "verify": ("citereview.cli.verify", "look up references' identifiers online (--online)"),
    "review": ("citereview.cli.review", "check claims against their sources and record the verdicts"),
    "watch": ("citereview.cli.watch", "render the source-watch issue body from verify/check JSON"),
}


def _statuses(value: str) -> list[str]:
    """``--fail-on disputed,retracted``: only statuses that mean a real problem may fail."""
    names = [v.strip() for v in value.split(",") if v.strip()]
    bad = [n for n in names if n not in FAILABLE_STATUSES]
    if bad:
        raise argparse.ArgumentTypeError(
            f"cannot fail on {', '.join(bad)}: choose from {', '.join(FAILABLE_STATUSES)} "
            "(unreviewed never fails a build: most references start there)")
    return names


def _load_delegate(name: str) -> tuple[ModuleType | None, str]:
    """Import a delegated subcommand's module; (None, reason) when it is missing or broken."""
    module_name = DELEGATED[name][0]
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        if exc.name == module_name:
            return None, f"module {module_name} is not installed in this checkout"
        return None, f"module {module_name} cannot be imported: {exc}"
    except Exception as exc:  # a broken module must not take the other commands down
        return None, f"module {module_name} failed to load: {type(exc).__name__}: {exc}"
    missing = [f for f in ("add_arguments", "run") if not callable(getattr(module, f, None))]
    if missing:
        return None, f"module {module_name} does not define {' and '.join(missing)}()"
    return module, ""


def build_parser(delegate: str | None = None, module: ModuleType | None = None) -> argparse.ArgumentParser:
    """The argument parser; ``delegate``'s own options are added only when it was imported."""
    parser = argparse.ArgumentParser(prog="citereview", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    check = sub.add_parser("check", help="validate bibliography, front matter and citations without building")
    check.add_argument("--config", "-f", default="mkdocs.yml", help="path to mkdocs.yml (default: %(default)s)")
    check.add_argument("--format", choices=("text", "github", "json"), default="text",
                       help="text (file:line:col), github (workflow annotations) or json")
    check.add_argument("--fail-on", type=_statuses, default=[], metavar="STATUSES",
                       help="comma-separated statuses whose citations are errors, e.g. disputed,retracted")
    check.add_argument("--changed", nargs="+", metavar="FILE",
                       help="only report page diagnostics for these files (pull requests)")
    check.add_argument("--base", metavar="REF",
                       help="with --changed: report only what changed since git REF touches (errors, claims "
                            "on changed lines, reviews the change invalidates)")
    check.add_argument("--min-level", choices=LEVELS, default="notice",
                       help="hide diagnostics below this level (default: show notices too)")

    queue = sub.add_parser("queue", help="print the review queue")
    queue.add_argument("--config", "-f", default="mkdocs.yml", help="path to mkdocs.yml (default: %(default)s)")
    queue.add_argument("--format", choices=("text", "markdown"), default="text",
                       help="text for a terminal, markdown for $GITHUB_STEP_SUMMARY")
    queue.add_argument("--changed", nargs="+", metavar="FILE",
                       help="only items on these pages (and references they cite)")
    queue.add_argument("--base", metavar="REF",
                       help="lead with the reviews the change since git REF invalidates and the new claims "
                            "it adds")

    css = sub.add_parser("stylesheet", help="write the package's stylesheet into docs_dir (for Zensical)")
    css.add_argument("--config", "-f", default="mkdocs.yml", help="path to mkdocs.yml (default: %(default)s)")
    css.add_argument("--prefix", help="class prefix (default: the extension's class_prefix in mkdocs.yml, else cr-)")
    css.add_argument("--output", "-o", metavar="FILE",
                     help=f"where to write it (default: <docs_dir>/{STYLESHEET_PATH})")
    css.add_argument("--check", action="store_true",
                     help="write nothing; exit 1 if the file is missing or not the installed package's")

    for name, (_, help_text) in DELEGATED.items():
        # Listed in --help always; its options exist only once its module is imported.
        p = sub.add_parser(name, help=help_text)
        p.set_defaults(_delegate=name)
        if delegate == name and module is not None:
            module.add_arguments(p)
    return parser


def _cmd_check(args: argparse.Namespace) -> int:
    project = Project.load(args.config)
    lines = _changed_lines(args.base, args.changed)
    result = run_check(project, fail_on=args.fail_on, changed=args.changed, lines=lines)
    keep = LEVELS[: LEVELS.index(args.min_level) + 1]
    shown = type(result)([d for d in result.diagnostics if d.level in keep or d.level == "error"])
    text = format_result(shown, args.format)
    if text:
        print(text)
    return 1 if result.failed else 0


def _cmd_queue(args: argparse.Namespace) -> int:
    from ..core.queue import project_queue
    from .queue import render_markdown, render_text

    project = Project.load(args.config)
    lines = _changed_lines(args.base, args.changed)
    q = project_queue(project, changed=args.changed)
    sys.stdout.write(render_markdown(q, project.config, lines=lines) if args.format == "markdown"
                     else render_text(q, lines=lines))
    return 0


def _changed_lines(base: str | None, changed: list[str] | None) -> dict[str, set[int]] | None:
    from .diffscope import DiffError, changed_lines

    if base is None:
        return None
    try:
        return changed_lines(base, changed or ())
    except DiffError as exc:
        raise ConfigError("--base", str(exc)) from exc


def _cmd_stylesheet(args: argparse.Namespace) -> int:
    """Zensical runs no plugins: the stylesheet goes into docs_dir, listed under extra_css."""
    project = Project.load(args.config)
    prefix = args.prefix or str(extension_options(project.config).get("class_prefix") or DEFAULT_PREFIX)
    if not PREFIX_RE.match(prefix):
        raise ConfigError(str(args.config), f"class prefix '{prefix}' must be lowercase letters, digits and "
                                            "hyphens, starting with a letter (e.g. 'cr-')")
    target = Path(args.output) if args.output else project.docs_dir / STYLESHEET_PATH
    shown = project.display(target.resolve())
    if args.check:
        try:
            current = target.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            current = None
        if current != stylesheet(prefix):
            print(f"{shown}: {'missing' if current is None else 'out of date'}; "
                  "run `citereview stylesheet` to write it", file=sys.stderr)
            return 1
        return 0
    wrote = write_stylesheet(target, prefix)
    print(f"{shown}: {'written' if wrote else 'up to date'} (class prefix {prefix})")
    return 0


def _cmd_delegate(args: argparse.Namespace, module: ModuleType) -> int:
    return int(module.run(args) or 0)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``citereview`` and ``python -m citereview``; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    command = next((a for a in argv if not a.startswith("-")), None)
    module, reason = _load_delegate(command) if command in DELEGATED else (None, "")
    if command in DELEGATED and module is None:
        print(f"citereview {command}: not available: {reason}", file=sys.stderr)
        return 2
    args = build_parser(command, module).parse_args(argv)
    try:
        if module is not None and getattr(args, "_delegate", None):
            return _cmd_delegate(args, module)
        if args.command == "check":
            return _cmd_check(args)
        if args.command == "stylesheet":
            return _cmd_stylesheet(args)
        return _cmd_queue(args)
    except ConfigError as exc:
        print(f"{exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `citereview queue | head`
        return 0


if __name__ == "__main__":
    sys.exit(main())
