"""The ``evckit`` command: a thin layer that parses arguments, calls the library, renders the result.

Exit status: 0 the command ran; 1 ``check --fail-on`` found what it was asked to fail on; 2 bad input
or usage (one line on stderr, no traceback); 70 an internal error (a bug: one line, ``--debug`` shows
the traceback); 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import argparse
import errno
import math
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

from evckit._text import printable
from evckit.errors import EvckitError

if TYPE_CHECKING:
    from evckit.inventory import Inventory
    from evckit.whatif import Scenario

__all__ = ["EXIT_FAIL_ON", "EXIT_INTERNAL", "EXIT_INTERRUPTED", "EXIT_OK", "EXIT_USAGE", "main", "run"]

#: Exit statuses (README, `evckit --help`).
EXIT_OK = 0
EXIT_FAIL_ON = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 70  # EX_SOFTWARE of sysexits.h: a bug in evckit, never a finding or bad input
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report it

Handler = Callable[[argparse.Namespace], int]

#: What `run` keeps alive until the process ends: the estate and its analysis, which it need not
#: free object by object (0.1-0.3 s at 100,000 VMs) just before the operating system drops them.
_ending: list[object] | None = None


def _keep(*objects: object) -> None:
    """Hand the command's large objects to `run`'s fast exit; nothing when `main` runs in-process."""
    if _ending is not None:
        _ending.extend(objects)


def _warn(message: str) -> None:
    """A warning on stderr (the report itself goes to stdout or -o FILE)."""
    sys.stderr.write(f"evckit: warning: {printable(message)}\n")


def _out(text: str, stream: TextIO | None = None) -> None:
    (stream or sys.stdout).write(text if text.endswith("\n") else text + "\n")


def _run_modes(args: argparse.Namespace) -> int:
    from evckit.catalog import Catalog  # noqa: PLC0415
    from evckit import report  # noqa: PLC0415

    catalog = Catalog.builtin()
    if args.diff:
        a, b = (catalog.mode(k) for k in args.diff)
        _out(report.render_mode_diff(catalog, a, b, args.format))
    elif args.key:
        _out(report.render_mode(catalog, catalog.mode(args.key), args.format))
    else:
        modes = [m for m in catalog.modes if args.vendor in (None, m.vendor)]
        _out(report.render_modes(catalog, modes, args.format))
    return 0


def _run_host(args: argparse.Namespace) -> int:
    from evckit import report  # noqa: PLC0415
    from evckit.catalog import Catalog  # noqa: PLC0415
    from evckit.cpuid import read_cpu_data  # noqa: PLC0415
    from evckit.assess import assess  # noqa: PLC0415
    from evckit.profiles import profile_from_data, profile_from_name  # noqa: PLC0415

    if not args.paths and not args.cpu:
        raise_usage("evckit host: give at least one PATH or --cpu NAME")
    catalog = Catalog.builtin()
    # Read everything first: a bad input fails the command before anything is printed.
    profiles = [profile_from_data(read_cpu_data(p), catalog) for p in args.paths]
    profiles += [profile_from_name(n, catalog) for n in args.cpu]
    _out(report.render_hosts([assess(p, catalog, esxi=args.esxi) for p in profiles], args.format))
    return 0


def _run_check(args: argparse.Namespace) -> int:
    if not args.snapshots and not args.example and not args.server:
        raise_usage("evckit check: give a SNAPSHOT file, --example or --server HOST")
    from evckit.output import open_output  # noqa: PLC0415

    # The output file is opened (as a temporary file beside it) before any work, so an unwritable
    # place fails at once, and renamed into place only when the whole report is written.
    from evckit.output import bulk_gc  # noqa: PLC0415

    with open_output(args.output) as out, bulk_gc() as loaded:
        return _check_into(args, out, loaded)


def _check_into(args: argparse.Namespace, out: TextIO, loaded: Callable[[], None]) -> int:
    """``evckit check`` writing its report to ``out``; ``loaded()`` once the inventory is read (GC policy)."""
    from evckit import report  # noqa: PLC0415
    from evckit.analysis import analyze  # noqa: PLC0415
    from evckit.inventory import load_inventories  # noqa: PLC0415
    from evckit.output import paused_gc  # noqa: PLC0415

    if args.server:
        inventory = _load_with_servers(args)
        loaded()
    else:
        with paused_gc():
            inventory = load_inventories(args.snapshots, example=args.example, cpuid_dirs=args.allow_cpuid_dir or ())
            loaded()  # frozen before the collector runs again: its first pass would scan all that was read
    if args.compare_cpus:
        return _compare(args, inventory, out)
    scenario = _scenario(args)
    result = None
    if scenario is not None:
        from evckit.whatif import run_scenario  # noqa: PLC0415

        result = run_scenario(inventory, scenario)
        analysis = result.after
    else:
        analysis = analyze(inventory)
    view = report.select(analysis, args.vm or (), args.cluster or (), explain=args.explain, estate=args.estate)
    if (args.vm and not view.vms) or (args.cluster and not view.clusters):
        raise_usage("no VM or cluster matches the --vm/--cluster filters")
    if args.csv_table and args.format != "csv":
        raise_usage("--csv-table goes with --format csv")
    if result is not None:
        report.write_scenario(result, view, args.format, out, csv_table=args.csv_table, warn=_warn)
    else:
        report.write_check(view, args.format, out, csv_table=args.csv_table, warn=_warn)
    _keep(inventory, analysis, result, view)
    if args.fail_on == "incompatible" and analysis.incompatible:
        return 1
    return 0


def _scenario(args: argparse.Namespace) -> Scenario | None:
    """The what-if scenario the --add-host/--replace-hosts/--remove-host options describe, if any."""
    if not (args.replace_hosts or args.remove_host or args.add_host):
        return None
    from evckit.whatif import AddHosts, RemoveHost, ReplaceHosts, Scenario, parse_host_spec  # noqa: PLC0415

    changes: list[AddHosts | ReplaceHosts | RemoveHost] = []
    for spec in args.replace_hosts or ():
        changes.append(ReplaceHosts(*parse_host_spec(spec, "--replace-hosts")))
    for name in args.remove_host or ():
        changes.append(RemoveHost(name))
    for spec in args.add_host or ():
        changes.append(AddHosts(*parse_host_spec(spec, "--add-host")))
    return Scenario(tuple(changes), prefix=args.new_host_prefix, esxi_version=args.new_host_esxi) if changes else None


def _compare(args: argparse.Namespace, inventory: Inventory, out: TextIO) -> int:
    from evckit import report  # noqa: PLC0415
    from evckit.whatif import compare_cpus  # noqa: PLC0415

    if not args.cluster or len(args.cluster) != 1:
        raise_usage("--compare-cpus needs exactly one --cluster NAME")
    cluster = args.cluster[0]
    _out(report.render_compare(cluster, compare_cpus(inventory, cluster, args.compare_cpus), args.format), out)
    return 0


class UsageError(Exception):
    """Bad command-line usage that argparse cannot see (exit status 2)."""


def raise_usage(message: str) -> NoReturn:
    """Stop with a usage error."""
    raise UsageError(message)


class _Parser(argparse.ArgumentParser):
    """argparse with two safety rules for every (sub)command parser.

    - ``--debug`` everywhere.
    - No abbreviations: ``--password S3cr3t`` must never be taken for ``--password-env``.
    - Errors are one line (no usage block) that never echoes a value the user did not mean as an option: an
      unrecognised argument may be a secret typed in the wrong place, so only option names are quoted.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["allow_abbrev"] = False
        super().__init__(*args, **kwargs)
        # Before or after the command name alike: `evckit --debug check …`, `evckit check … --debug`.
        self.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                          help="show the traceback of an error")

    def error(self, message: str) -> NoReturn:
        """Print one line (the problem, and where to find the usage); exit with status 2."""
        head = "unrecognized arguments: "
        if message.startswith(head):
            message = head + " ".join(_redact(a) for a in message[len(head):].split())
        self.exit(EXIT_USAGE, f"{self.prog}: error: {printable(message)} (see {self.prog} --help)\n")


_PROG = "evckit"


def _redact(arg: str) -> str:
    """An unrecognised argument as an error may quote it: option names only, never values."""
    if arg.startswith("-"):
        return printable(arg.split("=", 1)[0]) + ("=…" if "=" in arg else "")
    return "…"


class _RefusePassword(argparse.Action):
    """``--password``: refused without echoing the value; passwords never come from argv."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: object, option_string: str | None = None) -> None:
        parser.error("--password is not accepted (a password on the command line is visible to other users "
                     "and kept in shell history): use $EVCKIT_PASSWORD, --password-env NAME or the prompt")


def _seconds(text: str) -> float:
    """A positive, finite number of seconds (``inf``, ``nan``, 0 and negatives are refused)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive, finite number of seconds, not {text!r}")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, not {text!r}")
    return value


def _stderr(message: str) -> None:
    sys.stderr.write(f"evckit: {printable(message)}\n")  # server and object names: no escape sequences
    sys.stderr.flush()


def _collect(args: argparse.Namespace) -> dict[str, Any]:
    """Collect with the command-line options (shared by ``collect`` and ``check --server``)."""
    from evckit import vsphere  # noqa: PLC0415 - the collector loads only when collecting

    vsphere.require_pyvmomi()  # say what to install before asking for a password
    if not args.user:
        raise vsphere.CollectError("give --user USER")
    if args.insecure:
        _stderr("warning: --insecure: TLS certificates are not verified; anyone on the network path "
                "can impersonate the vCenter and read the password")
    password = vsphere.read_password(args.password_env, f"Password for {args.user}: ")
    return vsphere.collect_snapshot(
        args.server, args.user, password, insecure=args.insecure, ca_file=args.ca_file, timeout=args.timeout,
        page_size=args.page_size, progress=None if args.quiet else _stderr, total_timeout=args.total_timeout,
    )


def _run_collect(args: argparse.Namespace) -> int:
    """``evckit collect``: write the snapshot, or nothing at all."""
    from pathlib import Path  # noqa: PLC0415

    from evckit.errors import SnapshotError  # noqa: PLC0415
    from evckit.inventory import parse_snapshot  # noqa: PLC0415
    from evckit.vsphere import CollectError, write_snapshot  # noqa: PLC0415

    out = Path(args.output)
    if not out.parent.is_dir():
        raise CollectError(f"cannot write {out}: no such directory {out.parent}")
    doc = _collect(args)
    write_snapshot(doc, out)
    try:
        parse_snapshot(doc, str(out))
    except SnapshotError as exc:
        _stderr(f"warning: {'; '.join(exc.problems)}")
    if not args.quiet:
        _stderr(f"wrote {out}")
    return 0


def _load_with_servers(args: argparse.Namespace) -> Inventory:
    """``evckit check --server``: collect, then analyse with any SNAPSHOT files and --example given too."""
    from evckit.inventory import load_inventories, merge_inventories, parse_snapshot  # noqa: PLC0415

    collected = parse_snapshot(_collect(args), "vCenter " + ", ".join(args.server))
    if not args.snapshots and not args.example:
        return collected
    files = load_inventories(args.snapshots, example=args.example, cpuid_dirs=args.allow_cpuid_dir or ())
    return merge_inventories([files, collected])


def _run_convert(args: argparse.Namespace) -> int:
    from evckit.rvtools import convert  # noqa: PLC0415 - readers load only when converting

    for note in convert(args.sources, args.output):
        sys.stderr.write(f"evckit: note: {note}\n")
    return 0


#: Collector defaults (seconds per answer, objects per page); evckit.vsphere uses the same.
DEFAULT_TIMEOUT = 60.0
DEFAULT_TOTAL_TIMEOUT = 3600.0
DEFAULT_PAGE_SIZE = 1000


def _add_server_options(p: argparse.ArgumentParser, required: bool = False) -> None:
    """The vCenter connection options of ``collect`` and ``check``."""
    g = p.add_argument_group("vCenter (read-only collection)",
                             "password from $EVCKIT_PASSWORD, --password-env NAME or a prompt; never from argv")
    g.add_argument("--server", action="append", required=required, metavar="HOST[:PORT]",
                   help="vCenter to collect from (repeatable: one vCenter each)")
    g.add_argument("--user", metavar="USER", help="user name, e.g. readonly@vsphere.local")
    g.add_argument("--password-env", metavar="NAME", help="read the password from this environment variable")
    g.add_argument("--password", nargs="?", action=_RefusePassword, help=argparse.SUPPRESS)
    g.add_argument("--insecure", action="store_true", help="do not verify TLS certificates (prints a warning)")
    g.add_argument("--ca-file", metavar="FILE", help="trust the CA certificate(s) in this PEM file")
    g.add_argument("--timeout", type=_seconds, default=DEFAULT_TIMEOUT, metavar="S",
                   help=f"seconds for each call's complete answer (default {DEFAULT_TIMEOUT:g})")
    g.add_argument("--total-timeout", type=_seconds, default=DEFAULT_TOTAL_TIMEOUT, metavar="S",
                   help=f"seconds for the whole collection (default {DEFAULT_TOTAL_TIMEOUT:g})")
    g.add_argument("--page-size", type=_positive_int, default=DEFAULT_PAGE_SIZE, metavar="N",
                   help=f"objects per RetrievePropertiesEx page (default {DEFAULT_PAGE_SIZE})")
    g.add_argument("--quiet", action="store_true", help="no progress on stderr")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=_PROG,
        description="VMware EVC and vMotion compatibility: hosts, clusters, VMs, what-if.",
        epilog="Exit status: 0 ran, 1 --fail-on condition found, 2 bad input or usage, "
               "70 internal error (a bug; --debug shows the traceback), 130 interrupted.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    p = sub.add_parser("modes", help="list EVC modes, show one mode's features, or diff two modes")
    p.add_argument("key", nargs="?", help="show this mode's complete baseline")
    p.add_argument("--diff", nargs=2, metavar=("FROM", "TO"), help="features added and removed from FROM to TO")
    p.add_argument("--vendor", choices=["intel", "amd"], help="list only this vendor's modes")
    p.add_argument("--format", choices=["table", "json", "markdown", "csv"], default="table")
    p.set_defaults(run=_run_modes)

    p = sub.add_parser("host", help="identify CPUs from CPUID dumps, vSphere/Linux feature lists or names; "
                       "show their maximum EVC mode")
    p.add_argument("paths", nargs="*", metavar="PATH",
                   help="CPU data: libvirt XML, `cpuid -r`, AIDA64/libcpuid text, vSphere JSON, /proc/cpuinfo")
    p.add_argument("--cpu", action="append", default=[], metavar="NAME",
                   help="a CPU product name or codename, e.g. 'Xeon Gold 6348' or 'EPYC 9354' (assumed features)")
    p.add_argument("--esxi", metavar="VERSION",
                   help="the hosts' ESXi version (e.g. 7.0.3, or 'VMware ESXi 6.7.0 build-14320388': a build tells 6.x "
                        "updates apart): leaves out modes that release does not offer")
    p.add_argument("--format", choices=["table", "json", "markdown", "csv"], default="table")
    p.set_defaults(run=_run_host)

    p = sub.add_parser("check", help="analyse an estate: cluster EVC modes, where each VM can live-migrate, why not")
    p.add_argument("snapshots", nargs="*", metavar="SOURCE",
                   help="snapshot JSON file(s), RVTools .xlsx export(s) or CSV export folder(s)")
    p.add_argument("--example", action="store_true", help="analyse the embedded example estate")
    p.add_argument("--format", choices=["table", "json", "json-expanded", "csv", "markdown", "html", "json-groups"],
                   default="table",
                   help="json: each distinct VM verdict once, referenced by id from its VMs; json-expanded: each "
                        "VM with its verdict inline (large: use it with --vm/--cluster); html: one self-contained "
                        "page to read, mail and print (extra html); json-groups: former name of json")
    p.add_argument("--csv-table", choices=["vms", "verdicts", "targets", "clusters", "hosts"],
                   help="which CSV table: one row per VM (default), per verdict and target cluster, per VM and "
                        "target it cannot fully reach (default with --explain), per cluster, per host")
    p.add_argument("--vm", action="append", metavar="NAME", help="only these VMs (shell patterns; repeatable)")
    p.add_argument("--cluster", action="append", metavar="NAME",
                   help="only these clusters and their VMs (shell patterns; repeatable)")
    p.add_argument("--explain", action="store_true", help="show the verdict of every VM and target cluster (unfiltered on a large estate: "
                   "once per verdict shared by VMs)")
    p.add_argument("--allow-cpuid-dir", action="append", metavar="DIR",
                   help="a snapshot's cpuid_file may also name files in DIR (default: only its own folder)")
    p.add_argument("-o", "--output", metavar="FILE",
                   help="write the report to FILE (atomically: complete or not at all) instead of stdout")
    p.add_argument("--estate", action="store_true",
                   help="with --vm: also print the estate tables after the VMs' answers")
    p.add_argument("--fail-on", choices=["incompatible"],
                   help="exit 1 when a running VM cannot live-migrate to another cluster of its CPU vendor")
    what = p.add_argument_group("what-if (pre-purchase)", "CPU is a product name or brand string "
                                "('Xeon Gold 6430'), a codename ('sapphirerapids'), an EVC mode key or a CPUID dump path")
    what.add_argument("--add-host", action="append", metavar="CLUSTER=CPU[xN]", help="add N hosts with this CPU")
    what.add_argument("--replace-hosts", action="append", metavar="CLUSTER=CPU[xN]",
                      help="retire the cluster's hosts and put N hosts with this CPU in their place")
    what.add_argument("--remove-host", action="append", metavar="NAME", help="retire a host")
    what.add_argument("--new-host-prefix", default="new-", metavar="PREFIX",
                      help="name hypothetical hosts PREFIX1, PREFIX2… (default: new-)")
    what.add_argument("--new-host-esxi", metavar="VERSION",
                      help="ESXi version of hypothetical hosts (default: the newest in the estate)")
    what.add_argument("--compare-cpus", nargs="+", metavar="CPU",
                      help="rank candidate CPUs for the one --cluster given")
    p.set_defaults(run=_run_check)
    _add_server_options(p)  # check --server: collect, then analyse
    p = sub.add_parser("collect", help="read hosts, clusters, VMs and EVC modes from vCenter (read-only) "
                       "into a snapshot")
    _add_server_options(p, required=True)
    p.add_argument("-o", "--output", required=True, metavar="SNAPSHOT.json", help="snapshot file to write")
    p.set_defaults(run=_run_collect)

    p = sub.add_parser("convert", help="write RVTools exports (.xlsx or a CSV export folder) and snapshots "
                       "as one snapshot")
    p.add_argument("sources", nargs="+", metavar="SOURCE",
                   help="RVTools .xlsx export, folder of its CSV tabs (RVTools_tabvInfo.csv…), or snapshot JSON")
    p.add_argument("-o", "--output", required=True, metavar="SNAPSHOT.json", help="snapshot file to write")
    p.set_defaults(run=_run_convert)

    return parser



def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (see the module docstring)."""
    debug = False
    try:
        try:
            args = _parser().parse_args(argv)
        except SystemExit as exc:  # argparse: --help (0) or a usage error (2), already printed
            return exc.code if isinstance(exc.code, int) else EXIT_USAGE
        debug = bool(getattr(args, "debug", False))
        handler: Handler = args.run
        return handler(args)
    except (EvckitError, UsageError) as exc:
        return _fail(f"error: {exc}", EXIT_USAGE, debug)
    except KeyboardInterrupt:
        return _fail("interrupted", EXIT_INTERRUPTED, debug)
    except BrokenPipeError:
        # The reader went away (`evckit check … | head`): not an error. Point stdout at /dev/null so
        # that the interpreter's final flush does not complain either.
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):  # stdout is not a real file (captured, replaced): nothing to flush
            pass
        finally:
            os.close(devnull)
        return EXIT_OK
    except RecursionError:
        return _fail("error: input nested too deeply", EXIT_USAGE, debug)
    except OSError as exc:
        if exc.filename is None and exc.errno in _FULL:  # standard output (-o FILE raises OutputError)
            return _fail(_STDOUT_FAILED + (exc.strerror or str(exc)), EXIT_USAGE, debug)
        if exc.filename is None:
            return _fail(f"internal error: {type(exc).__name__}: {exc}; run with --debug for the traceback",
                         EXIT_INTERNAL, debug)
        return _fail(f"error: {exc.filename}: {exc.strerror or exc}", EXIT_USAGE, debug)
    except Exception as exc:  # noqa: BLE001 - the last line of defence: a bug is one line, not a traceback
        return _fail(f"internal error: {type(exc).__name__}: {exc}; run with --debug for the traceback",
                     EXIT_INTERNAL, debug)


def run() -> NoReturn:
    """The ``evckit`` command: `main`, then end the process at once with its exit status.

    The report is complete and flushed (or written and renamed into place) when `main` returns; what is
    left is freeing the estate, which the operating system does faster, so the process skips the
    interpreter's teardown (as mypy does). Only standard output and error still need flushing here.
    """
    global _ending
    _ending = []
    status = main()
    try:
        sys.stdout.flush()
    except BrokenPipeError:  # the reader went away: not an error (as in `main`)
        pass
    except (OSError, ValueError) as exc:
        status = _fail(_STDOUT_FAILED + (getattr(exc, "strerror", None) or str(exc)), EXIT_USAGE, debug=False)
    try:
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
    os._exit(status)


#: Write errors that say where the report was going is full, not that evckit is broken.
_FULL = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
_STDOUT_FAILED = "error: cannot write the report to standard output: "


def _fail(message: str, status: int, debug: bool) -> int:
    """Print one line on stderr (and the traceback with --debug); return the exit status."""
    if debug:
        traceback.print_exc()
    sys.stderr.write(f"evckit: {printable(message)}\n")
    return status


if __name__ == "__main__":
    run()
