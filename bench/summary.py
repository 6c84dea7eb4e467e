"""Print every bench/results/<name>.json as Markdown (what docs/benchmarks.md quotes). No database needed."""

import json
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
ORDER = ["recompute", "write_path", "burst", "log_form", "pages", "http", "reminders"]


def main(names: list[str]) -> None:
    for name in names or ORDER:
        path = RESULTS / f"{name}.json"
        if not path.exists():
            continue
        result = json.loads(path.read_text())
        machine = result["machine"]
        print(f"### {name}\n")
        print(f"Measured {result['measured_at']} at commit {machine['git']} "
              f"({machine['cores']} × {machine['cpu']}, PostgreSQL {machine['postgresql']}).\n")  # fmt: skip
        print("| | |\n|---|---|")
        for label, value in result["rows"]:
            print(f"| {label} | {value} |")
        print("\n| figure | measured | target | |\n|---|---|---|---|")
        for v in result["verdicts"]:
            print(
                f"| {v['figure']} | {v['value']}{v.get('unit', '')} | {v['target']} | {'met' if v['met'] else '**missed**'} |"
            )
        print()


if __name__ == "__main__":
    main(sys.argv[1:])
