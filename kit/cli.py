"""Command line: the only module that prints or exits."""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from pathlib import Path

from . import TEMPLATES, __version__
from .errors import KitError

COMMANDS = ("build", "check", "list", "import-source", "serve")


def _positive(text: str) -> int:
    """-j N: a whole number from 1 up (argparse exits 2 with usage otherwise)."""
    if not text.isdigit() or len(text) > 6 or int(text) < 1:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of workers (1 or more)")
    return int(text)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python build.py", description="Build classroom teaching kits.")
    parser.add_argument("--version", action="version", version=f"kit {__version__}")
    sub = parser.add_subparsers(dest="command")

    def common(p):
        p.add_argument("--content", type=Path, default=Path("content"), help="content folder (default: content)")
        p.add_argument("--templates", type=Path, default=TEMPLATES, help="templates folder (default: kit's own)")
        p.add_argument("--debug", action="store_true", help="show tracebacks")
        p.add_argument("--quiet", action="store_true", help="print only errors")

    build = sub.add_parser("build", help="build every lesson and class into the output folder (default)")
    common(build)
    build.add_argument("--output", type=Path, default=Path("output"), help="output folder (default: output)")
    build.add_argument("--paper", choices=("a4", "letter"), default=None,
                       help="paper size for lessons outside classes (default: a4)")
    build.add_argument("--class", dest="classes", action="append", default=[], metavar="ID",
                       help="build only this class (repeatable)")
    build.add_argument("-j", "--jobs", type=_positive, default=None, metavar="N",
                       help="render N documents at once (default and most: the number of cores, "
                            "fewer when memory is short)")
    check = sub.add_parser("check", help="validate everything, write nothing")
    common(check)
    lister = sub.add_parser("list", help="print the kit's inventory")
    common(lister)
    lister.add_argument("source", nargs="?", metavar="SOURCE-ID",
                        help="print this source's numbered sentences (the numbers evidence cites)")
    lister.add_argument("--json", action="store_true", help="print JSON")
    imp = sub.add_parser("import-source", help="import a Wilson Center Digital Archive transcription")
    common(imp)
    imp.add_argument("file", type=Path)
    imp.add_argument("--id", required=True, help="id for the source, e.g. kwp-letter-1964")
    imp.add_argument("--force", action="store_true",
                     help="import over an existing source, keeping the repairs recorded in it")
    serve = sub.add_parser("serve", help="preview and edit in the browser, on this computer only")
    common(serve)
    serve.add_argument("--output", type=Path, default=Path("output"), help="output folder (default: output)")
    serve.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1 (default: 8765; 0: any free port)")
    serve.add_argument("--no-open", action="store_true", help="do not open a browser")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run a command; exit 0 on success, 2 on invalid input, 1 on an internal error."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in COMMANDS + ("-h", "--help", "--version"):
        argv.insert(0, "build")
    args = _parser().parse_args(argv)
    try:
        return _run(args)
    except KitError as exc:
        if args.debug:
            traceback.print_exc()
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        count = len(exc.problems)
        print(f"kit: {count} problem{'s' * (count != 1)} found; nothing was written", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("kit: interrupted; the output folder keeps its previous files", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `list kwp-letter-1964 | head`: the reader has all it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        return 0
    except Exception as exc:  # noqa: BLE001 - the one place that turns crashes into exit code 1
        if args.debug:
            traceback.print_exc()
        print(f"kit: internal error: {type(exc).__name__}: {exc} (run again with --debug and report it)",
              file=sys.stderr)
        return 1


def _run(args) -> int:
    from .content import load_kit

    if args.command == "import-source":
        from .importer import import_source
        target = import_source(args.file, args.id, args.content, force=args.force)
        if not args.quiet:
            print(f"imported {args.file} as {target}")
        return 0
    if args.command == "serve":
        from .serve import serve

        def ready(url: str) -> None:
            print(f"kit serve: {url} (listening on 127.0.0.1 only; Ctrl-C stops)", flush=True)
            if not args.no_open:
                import webbrowser
                webbrowser.open(url)
        serve(args.content, args.output, args.templates, args.port, ready)
        print("kit serve: stopped", flush=True)
        return 0
    if args.command == "check":
        from .plan import plan
        from .render import Renderer
        kit = load_kit(args.content)
        renderer = Renderer(args.templates, args.content)
        for job in plan(kit):  # templates are checked too; rendering HTML writes nothing
            renderer.html(job.lesson, job.edition)
        from .pdf import Printer
        Printer(args.content, args.templates)  # and the stylesheets, as the printer reads them
        if not args.quiet:
            print(f"ok: {len(kit.sources)} sources, {len(kit.lessons)} lessons, "
                  f"{sum(len(l.excerpts) for l in kit.lessons)} excerpts verified")
        return 0
    if args.command == "list":
        from .inventory import human, human_sentences, inventory, source_sentences
        if args.source:  # only the source is read: it helps to fix a kit that does not load yet
            data = source_sentences(args.content, args.source)
            print(json.dumps(data, indent=2, ensure_ascii=False) if args.json else human_sentences(data))
            return 0
        data = inventory(load_kit(args.content))
        print(json.dumps(data, indent=2, ensure_ascii=False) if args.json else human(data))
        return 0
    from .build import build
    from .progress import reporter
    with reporter(args.quiet) as progress:
        report = build(args.content, args.output, paper=args.paper, classes=args.classes,
                       workers=args.jobs, progress=progress, templates=args.templates)
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if not args.quiet:
        print(report)
    return 0
