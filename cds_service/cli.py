"""The ``crs-cds`` command: serve the CDS Hooks service, or grade a file offline.

``crs-cds serve`` runs the app factory under gunicorn (a production WSGI
server, not Flask's development one). ``crs-cds grade FILE`` runs the same
pipeline without HTTP so that an integrator can check how an EHR's FHIR data
are read and graded, evidence by evidence.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import datetime
from typing import Any, Callable, Sequence

from .instants import parse_instant, utc_now
from .offline import InputError, patient_id_of, read_input
from .settings import ConfigError, Settings

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except ConfigError as exc:
        return _fail(f"configuration error: {exc}")
    except BrokenPipeError:  # output piped into `head` and closed early: not an error
        sys.stdout = open(os.devnull, "w")
        return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="crs-cds", description="CDS Hooks 2.0 service grading CRS (ASTCT).")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="serve the CDS Hooks API with gunicorn")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default: %(default)s)")
    serve.add_argument("--port", type=_port, default=8080, help="port to bind (default: %(default)s)")
    serve.add_argument("--workers", type=_positive, default=2, help="worker processes (default: %(default)s)")
    serve.set_defaults(run=serve_command)

    grade = commands.add_parser("grade", help="grade a FHIR Bundle or CDS Hooks request offline")
    grade.add_argument("file", metavar="FILE",
                       help="FHIR Bundle, single resource or CDS Hooks request (JSON); '-' reads stdin")
    grade.add_argument("--now", type=_instant, help="grade as of this ISO 8601 time (default: the request's "
                       'extension["crs-cds.now"], else the current time)')
    grade.add_argument("--json", action="store_true", help="print the assessment as JSON")
    grade.add_argument("--patient", metavar="ID", help="patient id (default: the request's context, "
                       "else the only Patient in the file)")
    grade.set_defaults(run=grade_command)
    return parser


def serve_command(args: argparse.Namespace) -> int:
    settings = Settings.from_env()  # validated here so that a bad variable stops us before forking
    from .server import run_gunicorn

    run_gunicorn(settings, host=args.host, port=args.port, workers=args.workers)
    return EXIT_OK


def grade_command(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    try:
        given = read_input(_load_json(args.file))
        patient_id = patient_id_of(given, args.patient)
    except InputError as exc:
        return _fail(f"{_name(args.file)}: {exc}")
    now: datetime = args.now or given.now or utc_now()

    from . import pipeline, render  # the clinical layers, only when grading

    assessment = pipeline.assess(given.resources, patient_id=patient_id, now=now,
                                 unavailable=given.unavailable, eligibility=settings.eligibility)
    if args.json:
        print(json.dumps(render.assessment_to_json(assessment), indent=2, ensure_ascii=False))
    else:
        print(render.assessment_table(assessment, patient_id=patient_id))
    return EXIT_OK


def _load_json(path: str) -> Any:
    try:
        raw = sys.stdin.buffer.read() if path == "-" else open(path, "rb").read()
    except OSError as exc:
        raise InputError(f"cannot read the file ({exc.strerror or exc})") from None
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None
    except (UnicodeDecodeError, RecursionError):
        raise InputError("not valid UTF-8 JSON") from None


def _name(path: str) -> str:
    return "stdin" if path == "-" else path


def _fail(message: str) -> int:
    print(f"crs-cds: {message}", file=sys.stderr)
    return EXIT_USAGE


def _typed(convert: Callable[[str], Any], what: str) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        try:
            return convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None
    return parse


def _check_port(text: str) -> int:
    value = int(text)
    if not 0 < value < 65536:
        raise ValueError(text)
    return value


def _check_positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError(text)
    return value


_port = _typed(_check_port, "a port number (1-65535)")
_positive = _typed(_check_positive, "a positive integer")
_instant = _typed(parse_instant, "an ISO 8601 date-time such as 2026-11-21T12:00:00Z")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
