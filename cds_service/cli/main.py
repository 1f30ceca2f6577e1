"""The ``crs-cds`` command: serve the CDS Hooks service, grade a file offline, inspect protocols.

``crs-cds serve`` builds the service (``bootstrap``) and serves it under gunicorn (a production WSGI
server, not Flask's development one). ``crs-cds grade FILE`` runs the same
clinical pipeline without HTTP so that an integrator can check how an EHR's FHIR data
are read and graded, evidence by evidence, and what the protocol proposes.
``crs-cds timeline FILE --out page.html`` draws the CRS timeline page from such a file, offline.
``crs-cds protocols list|show|validate`` lets a pharmacist read a protocol and
check an edited file before deploying it. ``crs-cds feedback report`` counts, per
card kind, the cards issued, accepted and overridden, with the top override reasons.
``crs-cds orderables check`` lists every orderable action of a protocol with the site's orderable for
it, or UNMAPPED. ``crs-cds dev-issuer`` and ``dev-token`` make a test EHR to run production mode against.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cards.profiles import CLIENTS, NO_ORDERABLES
from cards.wording.times import LocalTimes, reader_zone
from fhir_mappings import CodeListError, patient_share
from grading import GradingConfigError
from protocols import ProtocolError, ProtocolRegistry, load_protocol

from .. import __version__
from ..bootstrap import bootstrap, build_assessor
from ..ehr.offline import InputError, OfflineInput, patient_id_of, read_input
from ..feedback import SqlFeedbackStore, StoreUnavailable, format_report
from ..hooks import Assessor, catalogue, timeline_html
from ..http.server import multiprocess_metrics, run_gunicorn
from ..instants import parse_instant, utc_now
from ..orderables import OrderablesError, load_orderables
from ..settings import ConfigError, Settings
from . import dev
from .orderables import check_lines
from .protocols import list_cmd, show_cmd, validate_cmd
from .render_assessment import assessment_table, assessment_to_json
from .render_recommendations import recommendations_table, recommendations_to_json

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


def main(argv: Sequence[str] | None = None, *,
         build_assessor: Callable[[Settings], Assessor] = build_assessor) -> int:
    """Run ``crs-cds``; ``build_assessor`` is the composition root's clinical pipeline (tests pass a fake)."""
    args = build_parser().parse_args(argv)
    args.build_assessor = build_assessor
    if args.command == "serve":  # before anything is built: may start this command again (see there)
        multiprocess_metrics(sys.orig_argv if argv is None else None)
    try:
        return args.run(args)
    except ConfigError as exc:  # one line per problem, each naming the variable or file
        for problem in exc.problems:
            _fail(f"configuration error: {problem}")
        return EXIT_USAGE
    except (GradingConfigError, CodeListError) as exc:
        return _fail(f"configuration error: {exc}")
    except ProtocolError as exc:
        return _fail(f"protocol error:\n{exc}")
    except StoreUnavailable as exc:  # feedback report: the database named, never created
        return _fail(f"{args.database_setting}: {exc}")
    except BrokenPipeError:  # output piped into `head` and closed early: not an error
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - stays open: Python flushes stdout at exit
        return EXIT_OK
    except OSError as exc:  # a file named on the command line that cannot be read (a directory, no permission)
        return _fail(f"{exc.filename or 'file'}: cannot read ({exc.strerror or type(exc).__name__})")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="crs-cds", description="CDS Hooks 2.0 service grading CRS (ASTCT).")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="serve the CDS Hooks API with gunicorn")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default: %(default)s)")
    serve.add_argument("--port", type=_port, default=8080, help="port to bind (default: %(default)s)")
    serve.add_argument("--workers", type=_positive, help="worker processes (default: CRS_CDS_WORKERS, else 2)")
    serve.add_argument("--threads", type=_positive,
                       help="threads per worker, 1 for gunicorn's sync workers (default: CRS_CDS_THREADS, else 4)")
    serve.set_defaults(run=serve_command)

    grade = commands.add_parser("grade", help="grade a FHIR Bundle or CDS Hooks request offline")
    grade.add_argument("file", metavar="FILE",
                       help="FHIR Bundle, single resource or CDS Hooks request (JSON); '-' reads stdin")
    grade.add_argument("--json", action="store_true", help="print the assessment as JSON")
    _input_options(grade)
    grade.set_defaults(run=grade_command)

    page = commands.add_parser("timeline", help="write the CRS timeline page of a FHIR Bundle or CDS Hooks request")
    page.add_argument("file", metavar="FILE",
                      help="FHIR Bundle, single resource or CDS Hooks request (JSON); '-' reads stdin")
    page.add_argument("--out", required=True, metavar="PAGE", help="the HTML file to write ('-': stdout)")
    _input_options(page)
    page.set_defaults(run=timeline_command)

    protocols = commands.add_parser("protocols", help="list, show or validate treatment protocols")
    actions = protocols.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("list", help="the protocols shipped with the service").set_defaults(run=protocols_list)
    show = actions.add_parser("show", help="a protocol grade by grade, with every rule's source")
    show.add_argument("protocol", metavar="ID", help="protocol id or file")
    show.set_defaults(run=protocols_show)
    validate = actions.add_parser("validate", help="check a protocol file (exit 0 valid, 1 invalid)")
    validate.add_argument("file", metavar="FILE", help="protocol file (YAML or JSON)")
    validate.set_defaults(run=protocols_validate)

    feedback = commands.add_parser("feedback", help="clinicians' feedback on issued cards")
    feedback_actions = feedback.add_subparsers(dest="action", required=True, metavar="ACTION")
    report = feedback_actions.add_parser("report", help="per card kind: issued, accepted, overridden, top reasons")
    report.add_argument("--since", type=_since, metavar="DATE",
                        help="only cards issued and feedback given since this date or ISO 8601 time (UTC)")
    report.add_argument("--database", metavar="URL", help="feedback store (default: CRS_CDS_DATABASE_URL, "
                        "else CRS_CDS_FEEDBACK_DB, else var/crs-cds-feedback.sqlite3)")
    report.set_defaults(run=feedback_report)

    orderables = commands.add_parser("orderables", help="the site's orderables map (CRS_CDS_ORDERABLES_FILE)")
    orderables_actions = orderables.add_subparsers(dest="action", required=True, metavar="ACTION")
    check = orderables_actions.add_parser("check", help="every orderable action of the protocol with its mapping "
                                          "or UNMAPPED (exit 1 when one is unmapped)")
    check.add_argument("--protocol", metavar="ID", help="protocol id or file (default: CRS_CDS_PROTOCOL, and "
                       "CRS_CDS_PAEDIATRIC_PROTOCOL when set)")
    check.add_argument("--client", choices=CLIENTS, action="append",
                       help="client profile to check (repeatable; default: every client the file names, else epic)")
    check.add_argument("--file", metavar="FILE", help="orderables file (default: CRS_CDS_ORDERABLES_FILE)")
    check.set_defaults(run=orderables_check)
    dev.add_commands(commands)
    return parser


def _input_options(command: argparse.ArgumentParser) -> None:
    """``--now``, ``--patient`` and ``--protocol``: how ``grade`` and ``timeline`` read a file."""
    command.add_argument("--now", type=_instant, help="grade as of this ISO 8601 time (default: the request's "
                         'extension["crs-cds.now"], else the current time)')
    command.add_argument("--patient", metavar="ID", help="patient id (default: the request's context, "
                         "else the only Patient in the file)")
    command.add_argument("--protocol", metavar="ID", help="protocol id or file for the recommendations "
                         "(default: CRS_CDS_PROTOCOL, with CRS_CDS_PAEDIATRIC_PROTOCOL for patients under 18)")


def serve_command(args: argparse.Namespace) -> int:
    # Everything is built and validated here, before forking: a bad variable, data file or
    # protocol stops start-up with file, line and path, not as a worker traceback.
    settings = Settings.from_env().served_at(args.host, args.port)
    if args.workers is not None:
        settings = replace(settings, workers=args.workers)
    if args.threads is not None:
        settings = replace(settings, threads=args.threads)
    service = bootstrap(settings)
    run_gunicorn(service, host=args.host, port=args.port, workers=settings.workers, threads=settings.threads)
    return EXIT_OK


def _offline(args: argparse.Namespace, settings: Settings) -> tuple[Assessor, OfflineInput, str, datetime]:
    """The pipeline (``--protocol`` applied) and what FILE holds: resources, patient id, ``now``.
    Raises ``InputError`` naming what is wrong with the file."""
    assessor = args.build_assessor(settings)
    if args.protocol:
        assessor = assessor.with_protocols(ProtocolRegistry.load(
            args.protocol, adult_age_years=assessor.grading.adult_age_years))
    services = catalogue(assessor.codes)
    templates = {s.hook: s.prefetch for s in services}
    given = read_input(_load_json(args.file), templates, {key for s in services for key in s.prefetch_only})
    patient_id = patient_id_of(given, args.patient)
    return assessor, given, patient_id, args.now or given.now or utc_now()


def grade_command(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    try:
        assessor, given, patient_id, now = _offline(args, settings)
    except InputError as exc:
        return _fail(f"{_name(args.file)}: {exc}")
    share = patient_share(given.resources, patient_id)
    if share.mismatch:  # said on stderr, so that --json output stays JSON
        print(f"crs-cds: none of the {share.scoped} resources about a patient in {_name(args.file)} is about "
              f"patient {patient_id} ({share.for_patient} of {share.scoped} resources for this patient): nothing "
              "below comes from the data; check --patient or the request's context.patientId", file=sys.stderr)
    result = assessor.recommend(given.resources, patient_id=patient_id, now=now, unavailable=given.unavailable)
    assessment, recs = result.assessment, result.recommendations
    if args.json:
        data = assessment_to_json(assessment)
        data["recommendations"] = recommendations_to_json(recs)
        print(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        with reader_zone(settings.zone):  # times said in words (reasons) on the ward's clock; instants stay ISO
            print(assessment_table(assessment, patient_id=patient_id))
            print("\n" + recommendations_table(recs))
    return EXIT_OK


def timeline_command(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    try:
        assessor, given, patient_id, now = _offline(args, settings)
    except InputError as exc:
        return _fail(f"{_name(args.file)}: {exc}")
    html = timeline_html(assessor, given.resources, patient_id=patient_id, now=now, unavailable=given.unavailable,
                         times=LocalTimes(settings.zone), data_source=f"file {_name(args.file)}")
    if args.out == "-":
        sys.stdout.write(html)
        return EXIT_OK
    try:
        with open(args.out, "w", encoding="utf-8") as handle:
            handle.write(html)
    except OSError as exc:
        return _fail(f"{args.out}: cannot write the page ({exc.strerror or exc})")
    print(f"wrote {args.out}")
    return EXIT_OK


def protocols_list(args: argparse.Namespace) -> int:
    print(list_cmd())
    return EXIT_OK


def protocols_show(args: argparse.Namespace) -> int:
    print(show_cmd(args.protocol))
    return EXIT_OK


def protocols_validate(args: argparse.Namespace) -> int:
    path = Path(args.file)
    if not path.is_file():  # a usage error (exit 2), not an invalid protocol (exit 1)
        return _fail(f"{args.file}: {'is a directory' if path.is_dir() else 'no such file'}: give a protocol file "
                     "(.yaml, .yml or .json)")
    ok, message = validate_cmd(args.file)
    print(message)
    return EXIT_OK if ok else EXIT_FAILURE


def feedback_report(args: argparse.Namespace) -> int:
    if args.database:
        url, args.database_setting = args.database, "--database"
    else:
        settings = Settings.from_env()
        url, args.database_setting = settings.feedback_url, settings.feedback_setting
    store = SqlFeedbackStore.open_existing(url)
    print(f"feedback database: {store.describe()}")
    for line in format_report(store.report(args.since)):
        print(line)
    return EXIT_OK


def orderables_check(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    registry = ProtocolRegistry.load(settings.protocol_id, settings.paediatric_protocol_id, adult_age_years=18)
    checked = [load_protocol(args.protocol)] if args.protocol else list(registry.protocols)
    path = args.file or settings.orderables_file
    try:
        orderables = load_orderables(path, [*registry.protocols, *checked]) if path else NO_ORDERABLES
    except OrderablesError as exc:
        for problem in exc.problems:
            _fail(problem)
        return EXIT_USAGE
    print(f"orderables file: {path or '(none: CRS_CDS_ORDERABLES_FILE is not set)'}")
    unmapped = 0
    for protocol in checked:
        for client in args.client or orderables.clients() or ("epic",):
            lines, missing = check_lines(protocol, orderables, client)
            unmapped += missing
            print("\n".join(lines))
    return EXIT_FAILURE if unmapped else EXIT_OK


def _load_json(path: str) -> Any:
    try:
        if path == "-":
            raw = sys.stdin.buffer.read()
        else:
            with open(path, "rb") as handle:
                raw = handle.read()
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


def _check_since(text: str) -> datetime:
    """A date (midnight UTC) or an ISO 8601 date-time."""
    if len(text) == 10:
        return datetime.fromisoformat(text).replace(tzinfo=UTC)
    return parse_instant(text)


_since = _typed(_check_since, "a date (2026-11-01) or an ISO 8601 date-time")


