"""Run the FCM emulator in a process of its own (for benchmarks): ``python -m tests.push_emulator KEYFILE``.

Writes the service-account key (its ``token_uri`` pointing here) to KEYFILE,
prints the base URL on one line, and serves until stdin closes; then prints
how many messages it accepted.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from .server import FcmEmulator


def main() -> None:
    with FcmEmulator() as emulator:
        Path(sys.argv[1]).write_text(json.dumps(emulator.account))
        print(emulator.url, flush=True)
        sys.stdin.read()
        print(len(emulator.accepted), flush=True)


if __name__ == "__main__":
    main()
