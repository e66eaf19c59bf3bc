"""Running the fidelity probes on a gateway: every chosen model on every endpoint, stored
baselines, and the summary.json entries. No pytest here."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from harness.fidelity import cache, context, controls, encrypted, output, params, requested, tool_params, usage
from harness.fidelity.probe import Sender, Verdict
from harness.gateways import ConfigError
from harness.report.summary import build_summary

PROBES = (
    "usage",
    "usage.output",
    "param.max_tokens",
    "param.stop",
    "param.response_format",
    "param.include_usage",
    "param.n",
    "param.logprobs",
    "param.parallel_tool_calls",
    "param.tool_choice",
    "context.truncated",
    "context.tool_result",
    "control.signature",
    "control.previous_response",
    "control.encrypted_content",
    "cache.control",
)
# The baselines measured on the clean reference gateway (`relaycheck fidelity --gateway local
# --save-baseline harness/fidelity/local_baseline.json`); tests/test_fidelity.py keeps it current.
LOCAL_BASELINE = Path(__file__).with_name("local_baseline.json")
# The dialects the request-shaping probes (tools, history, streams) know how to write for; another
# registered dialect gets the probes that need only a prompt.
WRITTEN_FOR = ("chat", "messages", "responses")
OUTCOME = {"consistent": "passed", "inconsistent": "failed", "inconclusive": "skipped"}


def run_probes(
    sender: Sender,
    models: Mapping[str, Sequence[str]],
    baselines: usage.Baselines | None = None,
    *,
    probes: Sequence[str] = PROBES,
    on_verdict: Callable[[Verdict], None] | None = None,
) -> list[Verdict]:
    """Every probe on every endpoint and model, in a fixed order (endpoint, model, probe)."""
    out: list[Verdict] = []
    for endpoint in WRITTEN_FOR:  # a format the probes cannot write is named by not_probed(), not probed
        for model in models.get(endpoint, ()):
            runs: list[Callable[[], Verdict]] = []
            known = True
            if "usage" in probes:
                runs.append(lambda e=endpoint, m=model: usage.probe_usage(sender, e, m, baselines))
            if "param.max_tokens" in probes:
                runs.append(lambda e=endpoint, m=model: params.probe_max_tokens(sender, e, m))
            if "param.stop" in probes and endpoint in params.STOP_PARAM:
                runs.append(lambda e=endpoint, m=model: params.probe_stop(sender, e, m))
            if "usage.output" in probes and known:
                runs.append(lambda e=endpoint, m=model: output.probe_output(sender, e, m))
            if "param.response_format" in probes and endpoint in ("chat", "responses"):
                runs.append(lambda e=endpoint, m=model: requested.probe_response_format(sender, e, m))
            if "param.include_usage" in probes and endpoint == "chat":
                runs.append(lambda e=endpoint, m=model: requested.probe_include_usage(sender, e, m))
            if "param.n" in probes and endpoint == "chat":
                runs.append(lambda e=endpoint, m=model: requested.probe_n(sender, e, m))
            if "param.logprobs" in probes and endpoint in ("chat", "responses"):
                runs.append(lambda e=endpoint, m=model: requested.probe_logprobs(sender, e, m))
            if "param.parallel_tool_calls" in probes and known and _may(sender, endpoint, model, "parallel_tools"):
                runs.append(lambda e=endpoint, m=model: tool_params.probe_parallel_tool_calls(sender, e, m))
            if "param.tool_choice" in probes and known and _may(sender, endpoint, model, "tools"):
                runs.append(lambda e=endpoint, m=model: tool_params.probe_tool_choice(sender, e, m))
            if "context.truncated" in probes and known:
                runs.append(lambda e=endpoint, m=model: context.probe_truncated(sender, e, m))
            if "context.tool_result" in probes and known and _may(sender, endpoint, model, "tools"):
                runs.append(lambda e=endpoint, m=model: context.probe_tool_result(sender, e, m))
            # Round trips only the official upstream verifies, and prompt caching: one dialect each.
            if "control.signature" in probes and endpoint == "messages":
                runs.append(lambda e=endpoint, m=model: controls.probe_signature(sender, e, m))
            if "control.previous_response" in probes and endpoint == "responses":
                runs.append(lambda e=endpoint, m=model: controls.probe_previous_response(sender, e, m))
            if (
                "control.encrypted_content" in probes
                and endpoint == "responses"
                and _may(sender, endpoint, model, "reasoning")
            ):
                runs.append(lambda e=endpoint, m=model: encrypted.probe_encrypted_content(sender, e, m))
            if "cache.control" in probes and endpoint == "messages":
                runs.append(lambda e=endpoint, m=model: cache.probe_cache(sender, e, m))
            for run in runs:
                verdict = run()
                out.append(verdict)
                if on_verdict is not None:
                    on_verdict(verdict)
    return out


def not_probed(models: Mapping[str, Sequence[str]]) -> list[str]:
    """``endpoint/model`` pairs of formats the probes write no requests for (Gemini today): the
    CLIs print them, so a model left out is said, never silently passed over."""
    return [f"{e}/{m}" for e, ms in models.items() if e not in WRITTEN_FOR for m in ms]


def _may(sender: Sender, endpoint: str, model: str, capability: str) -> bool:
    """False only when the gateway declares what the model can do and this is not among it (a
    probe of a capability the relay does not offer would only be inconclusive)."""
    declared = sender.gw.model(endpoint, model)
    return declared is None or not declared.declared or capability in declared.capabilities


def load_baselines(path: Path) -> dict[str, dict[str, Any]]:
    """``lines`` of a baseline file, after checking it was measured with this probe's prompt."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the baseline: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise ConfigError(f"{path}: baseline is not JSON: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("lines"), dict):
        raise ConfigError(f"{path}: not a relaycheck fidelity baseline (no 'lines')")
    probe = {"unit": usage.UNIT, "base_prompt": usage.BASE_PROMPT, "repeats": list(usage.REPEATS)}
    if {k: data.get(k) for k in probe} != probe:
        raise ConfigError(f"{path}: measured with another usage prompt than this relaycheck sends: measure it again")
    source = f"baseline {Path(path).name}, measured on {data.get('measured_on', '?')}"
    lines = {}
    for key, line in data["lines"].items():
        if not (isinstance(line, dict) and all(isinstance(line.get(k), int | float) for k in ("slope", "intercept"))):
            raise ConfigError(f"{path}: lines[{key!r}] lacks a numeric slope and intercept")
        lines[key] = {**line, "source": source}
    return lines


def measure_baselines(sender: Sender, models: Mapping[str, Sequence[str]], measured_on: str) -> dict[str, Any]:
    """A baseline file's content: the usage line of every endpoint and model that gave one."""
    lines = {}
    for endpoint in WRITTEN_FOR:
        for model in models.get(endpoint, ()):
            line = usage.measure(sender, endpoint, model)
            if line is not None:
                lines[f"{endpoint}/{model}"] = line
    return {
        "unit": usage.UNIT,
        "base_prompt": usage.BASE_PROMPT,
        "repeats": list(usage.REPEATS),
        "measured_on": measured_on,
        "lines": lines,
    }


def summary(verdicts: Sequence[Verdict], gateway: str, started: float) -> dict[str, Any]:
    """summary.json in the shape `relaycheck run` writes (tool "fidelity"): one item per verdict,
    inconclusive ones skipped with their reason."""
    entries = []
    for v in verdicts:
        entry: dict[str, Any] = {
            "id": v.id,
            "case": v.probe,
            "file": None,
            "line": None,
            "endpoint": v.endpoint,
            "model": v.model,
            "stream": False,
            "gateway": gateway,
            "features": ["fidelity"],
            "outcome": OUTCOME[v.outcome],
            "violations": [x.as_dict() for x in v.violations],
            "notes": [],
            "fidelity": {"verdict": v.outcome, "reason": v.reason, "numbers": v.numbers},
            "requests": v.requests,
            "tokens": v.tokens,
        }
        if v.outcome == "inconclusive":
            entry["skip_reason"] = f"inconclusive: {v.reason}"
        entries.append(entry)
    return build_summary(entries, gateway=gateway, level="strict", started=started, tool="fidelity")


def line_of(v: Verdict) -> str:
    """One terminal line per verdict."""
    return f"  {v.outcome:12} {v.probe:25} {v.endpoint:9} {v.model:28} {v.tokens:6} tokens  {v.reason}"
