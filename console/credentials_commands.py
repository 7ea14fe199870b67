"""The ``credentials`` command: ``import FILE``, ``show`` and ``forget``.

``import`` reads a service-account key or an authorized-user file, checks it and stores its
content in the OS keyring (never on disk; ``console.gcp.credentials``). ``show`` prints which
identity the console would act as and where the key is kept, never the secret. ``forget`` removes
the key. Bad input (no such file, a key of a refused type, no keyring) exits 2 with the fix.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from console.gcp.credentials import (
    DEFAULT_KEY_NAME,
    CredentialsError,
    describe_adc,
    describe_stored,
    forget_key,
    import_key,
)
from console.keyring_secrets import SecretUnavailableError


def add_credentials_commands(
    commands: argparse._SubParsersAction,
) -> dict[str, Callable[[argparse.Namespace], int]]:
    """Register ``credentials``; returns its handler by command name."""
    parser = commands.add_parser(
        "credentials",
        help="import, show or forget the Google Cloud key kept in the OS keyring",
        description="Google Cloud credentials. The console uses Application Default Credentials "
        "when present; otherwise a key imported here, kept in the OS keyring (never on disk).",
    )
    actions = parser.add_subparsers(dest="credentials_action", metavar="ACTION", required=True)
    imported = actions.add_parser(
        "import", help="store a service-account key or authorized-user JSON in the keyring"
    )
    imported.add_argument("file", type=Path, help="the key's JSON file")
    for action in (
        imported,
        actions.add_parser("show", help="print the identity and where the key is kept"),
        actions.add_parser("forget", help="remove the key from the keyring"),
    ):
        action.add_argument(
            "--name",
            default=DEFAULT_KEY_NAME,
            help=f"the keyring entry (default {DEFAULT_KEY_NAME}; a workspace refers to another "
            'one with [gcp] credentials = "keyring:NAME")',
        )
    return {"credentials": cmd_credentials}


def cmd_credentials(args: argparse.Namespace) -> int:
    """Dispatch ``credentials import|show|forget``."""
    try:
        if args.credentials_action == "import":
            key = import_key(args.file, args.name)
            print(f"stored {key.describe()} in the OS keyring as {args.name!r}")
            print(
                f"the console keeps no copy on disk; {args.file} itself is untouched (delete it "
                "if it is not needed elsewhere)"
            )
            return 0
        if args.credentials_action == "show":
            key, where = describe_stored(args.name)
            print(f"keyring key: {key.describe() if key else 'none'}")
            print(f"kept in:     {where}")
            print(f"ADC:         {describe_adc()}")
            if key is None:
                print(
                    "import one with: incident-console credentials import KEY.json "
                    f"--name {args.name}"
                )
            return 0
        if forget_key(args.name):
            print(f"removed {args.name!r} from the OS keyring")
        else:
            print(f"nothing stored under {args.name!r}; nothing to forget")
        return 0
    except SecretUnavailableError as exc:
        raise CredentialsError(str(exc)) from None
