"""Benchmarks: ``python -m bench <scenario> [options]``. Never run as tests.

Each scenario module exposes ``add_arguments(parser)`` and ``async run(args) -> str`` (Markdown);
the text is printed and written to bench/results/<scenario>-<timestamp>.md.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib

from bench import runner

SCENARIOS = {
    "citizens": "bench.citizens",
}


def main() -> None:
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
