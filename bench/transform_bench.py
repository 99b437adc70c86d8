"""Transformation benchmark: time per webhook for a JavaScript function, a template and a
built-in format, against hookshot's default renderer (`render_generic`) on the same machine in
the same run. Prints ratios (lower is cheaper).

    .venv/bin/python bench/transform_bench.py [--iterations 2000]

Every row builds the full `m.room.message` content, as the connection would.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import _quickjs  # type: ignore[import-not-found]

from hookshot.services.generic.format import render_generic
from hookshot.services.generic.transform import compile_template, render_format, run_transformation

SAMPLES = Path(__file__).parent.parent / "tests" / "corpora" / "formats"
ALERTS = json.loads((SAMPLES / "alertmanager.firing.json").read_text())
SMALL = {"text": "Deploy of **web** finished", "status": "ok", "duration": 12.5}
TRIVIAL_JS = 'result = {version: "v2", plain: data.text}'
ALERT_JS = """
const lines = data.alerts.map(a => `**${a.labels.alertname}** on ${a.labels.instance}: `
  + `${a.annotations.summary} [source](${a.generatorURL})`);
result = {version: "v2", plain: `[${data.status.toUpperCase()}] ` + lines.join("\\n")};
"""
TRIVIAL_TEMPLATE = compile_template({"plain": "{{ $.text }}"})
ALERT_TEMPLATE = compile_template(
    {
        "plain": "[{{ $.status | upper }}] {{ $.alerts[*].labels.alertname | join }} on "
        "{{ $.alerts[*].labels.instance | join }}"
    }
)


def per_call(fn: Callable[[], object], iterations: int, repeats: int = 5) -> float:
    """Median seconds per call over `repeats` runs of `iterations` calls."""
    fn()  # warm caches and imports
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(iterations):
            fn()
        times.append((time.perf_counter() - start) / iterations)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=2000)
    args = parser.parse_args()
    n = args.iterations

    # (row, body it renders, call); ratios compare with the default renderer on that body.
    rows: list[tuple[str, str, Callable[[], object]]] = [
        ("default renderer", "small", lambda: render_generic(SMALL, include_hook_body=True)),
        ("default renderer", "alerts", lambda: render_generic(ALERTS, include_hook_body=True)),
        ("QuickJS runtime alone (floor)", "small", _quickjs.Context),
        (
            "JS function, trivial",
            "small",
            lambda: run_transformation(TRIVIAL_JS, SMALL).message_content(),
        ),
        (
            "JS function, alert summary",
            "alerts",
            lambda: run_transformation(ALERT_JS, ALERTS).message_content(),
        ),
        ("template, trivial", "small", lambda: TRIVIAL_TEMPLATE.render(SMALL).message_content()),
        (
            "template, alert summary",
            "alerts",
            lambda: ALERT_TEMPLATE.render(ALERTS).message_content(),
        ),
        (
            "format alertmanager",
            "alerts",
            lambda: render_format("alertmanager", ALERTS).message_content(),
        ),
    ]
    results = [(name, body, per_call(fn, n)) for name, body, fn in rows]
    baseline = {body: seconds for name, body, seconds in results if name == "default renderer"}
    width = max(len(name) for name, _, _ in results)
    print(f"{'row':<{width}}  {'body':<6}  {'µs/call':>9}  {'× default renderer':>18}")
    for name, body, seconds in results:
        ratio = seconds / baseline[body]
        print(f"{name:<{width}}  {body:<6}  {seconds * 1e6:9.1f}  {ratio:18.2f}")


if __name__ == "__main__":
    main()
