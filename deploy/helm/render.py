"""Lints and renders the awala-gateway chart offline with Helm's own Go SDK (helm-python-sdk).

Usage: python render.py CHART OUT_DIR NAME=VALUES_FILE...
Each VALUES_FILE ("-" for the chart's defaults) is linted strictly, checked against
values.schema.json and rendered to OUT_DIR/NAME/<template>.yaml (hooks included).
"""

import pathlib
import sys

import helm_python as helm


def main() -> int:
    chart_dir, out_dir, *cases = sys.argv[1:]
    failed = False
    for case in cases:
        name, values_file = case.split("=", 1)
        values = {} if values_file == "-" else helm.values_from_yaml(pathlib.Path(values_file).read_text())
        report = helm.lint(chart_dir, values, strict=True)
        for message in report.get("messages") or []:
            print(f"  lint[{name}] severity {message['severity']}: {message['path']}: {message['error']}")
            failed = failed or message["severity"] >= 2
        for error in report.get("errors") or []:
            print(f"  lint[{name}] error: {error}")
            failed = True
        with helm.Chart.load(chart_dir) as chart:
            chart.validate_schema(values)
            manifests = chart.render(values, name="awala", namespace="awala", is_install=True)
            notes = manifests.get(f"{chart.name}/templates/NOTES.txt", "")
        target = pathlib.Path(out_dir) / name
        target.mkdir(parents=True, exist_ok=True)
        count = 0
        for template, text in sorted(manifests.items()):
            if not template.endswith(".yaml") or not text.strip():
                continue
            (target / pathlib.Path(template).name).write_text(text)
            count += 1
        (target / "NOTES.txt").write_text(notes)
        print(f"  rendered {name}: {count} manifest files in {target}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
