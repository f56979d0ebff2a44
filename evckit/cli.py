"""The ``evckit`` command: a thin layer that parses arguments, calls the library, renders the result.

Exit status: 0 the command ran; 1 ``check --fail-on`` found what it was asked to fail on; 2 bad input
or usage (one line on stderr, no traceback).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TextIO

from evckit.errors import EvckitError

if TYPE_CHECKING:
    from evckit.inventory import Inventory
    from evckit.whatif import Scenario

__all__ = ["main"]

Handler = Callable[[argparse.Namespace], int]


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
    from evckit.hosts import assess, profile_from_data, profile_from_name  # noqa: PLC0415

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
    with open_output(args.output) as out:
        return _check_into(args, out)


def _check_into(args: argparse.Namespace, out: TextIO) -> int:
    """``evckit check`` writing its report to ``out``."""
    from evckit import report  # noqa: PLC0415
    from evckit.analysis import analyze  # noqa: PLC0415
    from evckit.inventory import load_inventories  # noqa: PLC0415

    if args.server:
        from evckit.vsphere import load_with_servers  # noqa: PLC0415

        inventory = load_with_servers(args)
    else:
        inventory = load_inventories(args.snapshots, example=args.example)
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
    view = report.select(analysis, args.vm or (), args.cluster or (), explain=args.explain)
    if (args.vm and not view.vms) or (args.cluster and not view.clusters):
        raise_usage("no VM or cluster matches the --vm/--cluster filters")
    if result is not None:
        _out(report.render_scenario(result, view, args.format), out)
    else:
        _out(report.render_check(view, args.format), out)
    if args.fail_on == "incompatible" and report.incompatible(analysis):
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


def raise_usage(message: str) -> None:
    """Stop with a usage error."""
    raise UsageError(message)


def _run_collect(args: argparse.Namespace) -> int:
    from evckit.vsphere import run_collect  # noqa: PLC0415 - the collector loads only when collecting

    return run_collect(args)


#: Collector defaults (seconds per answer, objects per page); evckit.vsphere uses the same.
DEFAULT_TIMEOUT = 60.0
DEFAULT_PAGE_SIZE = 1000


def _add_server_options(p: argparse.ArgumentParser, required: bool = False) -> None:
    """The vCenter connection options of ``collect`` and ``check``."""
    g = p.add_argument_group("vCenter (read-only collection)",
                             "password from $EVCKIT_PASSWORD, --password-env NAME or a prompt; never from argv")
    g.add_argument("--server", action="append", required=required, metavar="HOST[:PORT]",
                   help="vCenter to collect from (repeatable: one vCenter each)")
    g.add_argument("--user", metavar="USER", help="user name, e.g. readonly@vsphere.local")
    g.add_argument("--password-env", metavar="NAME", help="read the password from this environment variable")
    g.add_argument("--insecure", action="store_true", help="do not verify TLS certificates (prints a warning)")
    g.add_argument("--ca-file", metavar="FILE", help="trust the CA certificate(s) in this PEM file")
    g.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, metavar="S",
                   help=f"seconds to wait for each answer (default {DEFAULT_TIMEOUT:g})")
    g.add_argument("--page-size", type=int, default=DEFAULT_PAGE_SIZE, metavar="N",
                   help=f"objects per RetrievePropertiesEx page (default {DEFAULT_PAGE_SIZE})")
    g.add_argument("--quiet", action="store_true", help="no progress on stderr")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="evckit",
        description="VMware EVC and vMotion compatibility: hosts, clusters, VMs, what-if.",
        epilog="Exit status: 0 ran, 1 --fail-on condition found, 2 bad input or usage.",
    )
    parser.add_argument("--debug", action="store_true", help="show a traceback on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
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
                   help="the hosts' ESXi version (e.g. 7.0.3): leaves out modes that release does not offer")
    p.add_argument("--format", choices=["table", "json", "markdown", "csv"], default="table")
    p.set_defaults(run=_run_host)

    p = sub.add_parser("check", help="analyse an estate: cluster EVC modes, where each VM can live-migrate, why not")
    p.add_argument("snapshots", nargs="*", metavar="SNAPSHOT", help="inventory snapshot JSON file(s)")
    p.add_argument("--example", action="store_true", help="analyse the embedded example estate")
    p.add_argument("--format", choices=["table", "json", "json-groups", "csv", "markdown"], default="table",
                   help="json-groups: each distinct VM verdict once, referenced by id (for large estates)")
    p.add_argument("--vm", action="append", metavar="NAME", help="only these VMs (shell patterns; repeatable)")
    p.add_argument("--cluster", action="append", metavar="NAME",
                   help="only these clusters and their VMs (shell patterns; repeatable)")
    p.add_argument("--explain", action="store_true", help="show the verdict of every VM and target cluster")
    p.add_argument("-o", "--output", metavar="FILE",
                   help="write the report to FILE (atomically: complete or not at all) instead of stdout")
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

    return parser



def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    handler: Handler = args.run
    try:
        return handler(args)
    except (EvckitError, UsageError) as exc:
        if args.debug:
            raise
        sys.stderr.write(f"evckit: error: {exc}\n")
        return 2
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
