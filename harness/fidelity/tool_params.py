"""Parameters honoured: the tool parameters a relay that rebuilds requests drops.

- ``param.parallel_tool_calls``: two tools and a prompt asking for both at once; a control
  without the flag must call both (else the probe cannot tell), then with
  ``parallel_tool_calls: false`` (Messages: ``disable_parallel_tool_use``) at most one call.
- ``param.tool_choice``: ``required`` (Messages ``any``) on a prompt that needs no tool must call
  one; a named tool on a prompt about the other tool must call the named one only; ``none`` on
  a prompt asking for a tool must call none. The official APIs enforce all three by constrained
  decoding, so a single answer is evidence.
"""

from __future__ import annotations

from typing import Any

from harness import dialects
from harness.fidelity.probe import Sender, Verdict, request_body, text_of
from harness.model import Violation

TOOLS = (
    ("get_weather", "Get the weather for a city.", {"city": {"type": "string"}}),
    ("get_time", "Get the local time in a timezone.", {"timezone": {"type": "string"}}),
)
PARALLEL_PROMPT = "At the same time, get the weather in Paris and the time in Asia/Tokyo: call both tools at once."
TOOL_MAX_TOKENS = 256


def tools_param(endpoint: str) -> list[dict[str, Any]]:
    out = []
    for name, description, props in TOOLS:
        schema = {"type": "object", "properties": props, "required": list(props)}
        if endpoint == "chat":
            out.append(
                {"type": "function", "function": {"name": name, "description": description, "parameters": schema}}
            )
        elif endpoint == "responses":
            out.append({"type": "function", "name": name, "description": description, "parameters": schema})
        else:
            out.append({"name": name, "description": description, "input_schema": schema})
    return out


def choice_param(endpoint: str, mode: str, name: str | None = None) -> Any:
    """tool_choice in the dialect's spelling: mode required, none or named."""
    if endpoint == "messages":
        return {"type": "tool", "name": name} if mode == "named" else {"type": {"required": "any"}.get(mode, mode)}
    if mode == "named":
        return (
            {"type": "function", "function": {"name": name}}
            if endpoint == "chat"
            else {"type": "function", "name": name}
        )
    return mode


def _calls(
    sender: Sender, endpoint: str, model: str, prompt: str, expect_call: bool = True, **extra: Any
) -> tuple[list[str] | None, str | None]:
    """Names of the tools the answer calls (None with the reason when the answer cannot tell)."""
    body = request_body(endpoint, model, prompt, TOOL_MAX_TOKENS, tools=tools_param(endpoint), **extra)
    answer = sender.send(endpoint, body)
    if not answer.ok or answer.body is None:
        return None, answer.error
    container = {"chat": "choices", "messages": "content", "responses": "output"}[endpoint]
    if not isinstance(answer.body.get(container), list) or not answer.body[container]:
        return None, f"HTTP 200 without {container}"
    calls = [c.name for c in dialects.get(endpoint).tool_calls(answer.body)]
    if not calls and expect_call and any(name in (text_of(endpoint, answer.body) or "") for name, _, _ in TOOLS):
        # A call written out as text (the suite's tool.as_text): no evidence about the parameter.
        return None, "a tool named in the text instead of called"
    return calls, None


def probe_parallel_tool_calls(sender: Sender, endpoint: str, model: str) -> Verdict:
    done = sender.verdicts("param.parallel_tool_calls", endpoint, model)
    control, err = _calls(sender, endpoint, model, PARALLEL_PROMPT)
    if control is None:
        return done("inconclusive", f"the control request got no usable answer ({err})", {})
    if endpoint == "messages":
        flag: dict[str, Any] = {"tool_choice": {"type": "auto", "disable_parallel_tool_use": True}}
    else:
        flag = {"parallel_tool_calls": False}
    limited, err = _calls(sender, endpoint, model, PARALLEL_PROMPT, **flag)
    numbers = {"control_calls": control, "limited_calls": limited}
    if limited is None:
        return done("inconclusive", f"the request without parallel calls got no usable answer ({err})", numbers)
    if len(limited) > 1:
        v = Violation(
            "fidelity.param.parallel_tool_calls",
            "tool_calls",
            f"{len(limited)} tool calls in one answer although parallel tool calls were disabled "
            f"({next(iter(flag))}): the parameter was not applied",
            "at most 1",
            len(limited),
        )
        return done("inconsistent", v.message, numbers, (v,))
    if len(control) < 2:
        return done(
            "inconclusive", f"the control answer made {len(control)} call(s): parallel calls were never shown", numbers
        )
    return done(
        "consistent", f"{len(control)} calls in the control, {len(limited)} with parallel calls disabled", numbers
    )


# (form, tool_choice mode, named tool, prompt, what the official API guarantees)
CHOICES = (
    ("required", "required", None, "Say hello."),
    ("named", "named", "get_time", "What is the weather in Paris?"),
    ("none", "none", None, "What is the weather in Paris? Use the tool."),
)


def probe_tool_choice(sender: Sender, endpoint: str, model: str) -> Verdict:
    done = sender.verdicts("param.tool_choice", endpoint, model)
    numbers: dict[str, Any] = {}
    found: list[Violation] = []
    judged = 0
    for form, mode, name, prompt in CHOICES:
        calls, err = _calls(
            sender, endpoint, model, prompt, expect_call=form != "none", tool_choice=choice_param(endpoint, mode, name)
        )
        numbers[form] = calls if calls is not None else f"no answer ({err})"
        if calls is None:
            continue
        judged += 1
        problem = None
        if form == "required" and not calls:
            problem = "tool_choice required (Messages: any) gave no tool call"
        elif form == "named" and (not calls or set(calls) != {name}):
            problem = f"tool_choice naming {name} called {calls or 'no tool'}"
        elif form == "none" and calls:
            problem = f"tool_choice none called {calls}"
        if problem:
            found.append(
                Violation("fidelity.param.tool_choice", f"tool_choice.{form}", f"{problem}: not applied", form, calls)
            )
    if found:
        return done("inconsistent", "; ".join(v.message for v in found), numbers, found)
    if judged < len(CHOICES):
        return done(
            "inconclusive",
            f"{len(CHOICES) - judged} of {len(CHOICES)} tool_choice requests got no usable answer: "
            + "; ".join(sorted({str(n) for n in numbers.values() if isinstance(n, str)})),
            numbers,
        )
    return done("consistent", "required, a named tool and none were each applied", numbers)
