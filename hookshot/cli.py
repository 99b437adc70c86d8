"""Command line: `hookshot run|generate-registration|check-config|demo`, and hookshot's own
`python -m hookshot config.yml registration.yml`."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from hookshot.config import load_config
from hookshot.errors import ConfigError
from hookshot.matrix.registration import (
    check_against_config,
    generate_registration,
    load_registration,
    write_registration,
)
from hookshot.ops.config_secrets import register_config_secrets
from hookshot.ops.logs import setup_logging
from hookshot.ops.roles import Role, check_role

COMMANDS = ("run", "generate-registration", "check-config", "demo")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hookshot",
        description="A Matrix bridge for GitHub, GitLab and generic webhooks.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the bridge")
    run.add_argument("config", help="path to config.yml")
    run.add_argument("registration", help="path to registration.yml")
    run.add_argument(
        "--role",
        choices=[r.value for r in Role],
        default=os.environ.get("HOOKSHOT_ROLE", Role.ALL.value),
        help="what this process does (default: all; others need queue.redisUri)",
    )
    gen = sub.add_parser("generate-registration", help="write a new appservice registration")
    gen.add_argument("config", help="path to config.yml")
    gen.add_argument("-o", "--output", default="registration.yml", help="file to write")
    gen.add_argument("--url", help="URL the homeserver uses to reach the bridge")
    gen.add_argument("--id", default="hookshot", help="appservice id")
    gen.add_argument("--force", action="store_true", help="replace an existing file")
    check = sub.add_parser("check-config", help="validate config (and registration)")
    check.add_argument("config", help="path to config.yml")
    check.add_argument("registration", nargs="?", help="path to registration.yml")
    demo = sub.add_parser(
        "demo", help="start a local Synapse and the bridge with a demo room and webhook"
    )
    demo.add_argument("--dir", default="./demo-data", help="where the demo keeps its files")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    # hookshot's contract: `<config> <registration>` with no subcommand means run.
    if args and args[0] not in (*COMMANDS, "-h", "--help"):
        args = ["run", *args]
    ns = _parser().parse_args(args)
    try:
        if ns.command == "run":
            return _run(ns.config, ns.registration, Role(ns.role))
        if ns.command == "generate-registration":
            return _generate(ns)
        if ns.command == "check-config":
            return _check(ns.config, ns.registration)
        from hookshot.dev.demo import run_demo  # only the demo needs the dev homeserver

        return run_demo(ns.dir)
    except ConfigError as err:
        print(f"hookshot: {err}", file=sys.stderr)
        return 2


def _run(config_path: str, registration_path: str, role: Role) -> int:
    from hookshot.runner import run, serve

    config = load_config(config_path)
    registration = load_registration(registration_path)
    check_role(role, config)
    setup_logging(
        config.logging.level,
        json_lines=config.logging.json,
        access_log=config.logging.access_log,
    )
    register_config_secrets(config, registration)
    import logging

    log = logging.getLogger("hookshot")
    for warning in (*config.warnings, *check_against_config(registration, config)):
        log.warning("config: %s", warning)
    return run(serve(config, registration, role))


def _generate(ns: argparse.Namespace) -> int:
    config = load_config(ns.config)
    reg = generate_registration(config, id=ns.id, url=ns.url)
    try:
        write_registration(ns.output, reg, overwrite=ns.force)
    except FileExistsError as err:
        print(f"hookshot: {err} (use --force)", file=sys.stderr)
        return 1
    print(f"wrote {ns.output}")
    return 0


def _check(config_path: str, registration_path: str | None) -> int:
    config = load_config(config_path)
    warnings = list(config.warnings)
    if registration_path:
        registration = load_registration(registration_path)
        warnings += check_against_config(registration, config)
    for warning in warnings:
        print(f"warning: {warning}")
    print("config OK" + (f" ({len(warnings)} warnings)" if warnings else ""))
    return 0
