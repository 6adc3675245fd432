"""Benchmarks: ``python -m bench <scenario> [options]``. Never run as tests.

Each scenario module exposes ``add_arguments(parser)`` and ``async run(args) -> str`` (Markdown);
the text is printed and written to bench/results/<scenario>-<timestamp>.md. Older modules with
their own ``main()`` (bench/requests.py, bench/appointments.py, ...) run as ``python -m bench <module>``.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import sys
from pathlib import Path

from bench import runner

SCENARIOS = {
    "citizens": "bench.citizens",
}


def legacy(name: str) -> bool:
    """Scenarios written before the registry (bench/requests.py, ...) keep their own ``main()``:
    ``python -m bench requests --citizens 1000`` runs ``bench.requests.main()`` with those options."""
    if name in SCENARIOS or not (Path(__file__).parent / f"{name}.py").is_file():
        return False
    module = importlib.import_module(f"bench.{name}")
    if not callable(getattr(module, "main", None)):
        return False
    sys.argv = [f"python -m bench {name}", *sys.argv[2:]]
    module.main()
    return True


def main() -> None:
    if len(sys.argv) > 1 and legacy(sys.argv[1]):
        return
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="scenario", required=True)
    modules = {}
    for name, path in SCENARIOS.items():
        module = modules[name] = importlib.import_module(path)
        p = sub.add_parser(name, help=(module.__doc__ or "").strip().splitlines()[0])
        p.add_argument("--database-url", help="PostgreSQL server (default: the embedded pgserver); e.g. "
                       "postgresql://postgres@127.0.0.1:5432/postgres. A guichet_bench database is created there.")
        p.add_argument("--keep", action="store_true", help="keep the benchmark database and reuse it on the next run")
        module.add_arguments(p)
    args = parser.parse_args()
    text = asyncio.run(modules[args.scenario].run(args))
    print(text)
    print(f"written to {runner.write_report(args.scenario, text)}")


if __name__ == "__main__":
    main()
