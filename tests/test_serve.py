"""``relaycheck serve`` as a client developer uses it: the real command in a subprocess on a free
loopback port, driven by the official openai and anthropic SDKs. Clean, every endpoint parses
and the SDKs' stream accumulators agree with the harness (the checks of test_sdk_compat, pointed
at the served gateway); with a fault on, an SDK fails or gets another answer."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from tests import test_sdk_compat as sdk_checks
from tests.conftest import REPO, TEST_KEY

openai = pytest.importorskip("openai", reason="the openai SDK is a test dependency (pip install -e '.[dev]')")
anthropic = pytest.importorskip("anthropic", reason="the anthropic SDK is a test dependency (pip install -e '.[dev]')")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def serve() -> Iterator[Callable[..., str]]:
    """Starts ``relaycheck serve [--fault NAME]``; yields a factory returning the base URL. The
    key reaches the subprocess through the environment, never its command line."""
    procs: list[subprocess.Popen[str]] = []

    def start(*faults: str) -> str:
        port = _free_port()
        args = [sys.executable, "-m", "harness.cli", "serve", "--port", str(port)]
        for f in faults:
            args += ["--fault", f]
        env = {**os.environ, "RELAYCHECK_API_KEY": TEST_KEY}
        proc = subprocess.Popen(args, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        procs.append(proc)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
            try:
                if httpx.get(url + "/v1/models", headers={"authorization": f"Bearer {TEST_KEY}"}).status_code == 200:
                    return url
            except httpx.TransportError:
                time.sleep(0.1)
        pytest.fail("relaycheck serve did not come up")

    yield start
    for proc in procs:
        proc.terminate()
        proc.wait(timeout=10)


def test_serve_binds_loopback_and_refuses_other_addresses() -> None:
    res = subprocess.run(
        [sys.executable, "-m", "harness.cli", "serve", "--host", "0.0.0.0", "--port", str(_free_port())],
        cwd=REPO,
        env={**os.environ, "RELAYCHECK_API_KEY": TEST_KEY},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert res.returncode != 0 and "loopback" in res.stderr


def test_serve_rejects_an_unknown_fault() -> None:
    res = subprocess.run(
        [sys.executable, "-m", "harness.cli", "serve", "--fault", "no-such-fault", "--port", str(_free_port())],
        cwd=REPO,
        env={**os.environ, "RELAYCHECK_API_KEY": TEST_KEY},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert res.returncode == 2 and "no-such-fault" in res.stderr


@pytest.mark.parametrize(
    "check", [sdk_checks.test_openai_chat, sdk_checks.test_anthropic_messages, sdk_checks.test_openai_responses]
)
def test_sdks_parse_every_endpoint_of_the_served_gateway(
    serve: Callable[..., str], check: Callable[[str], None]
) -> None:
    check(serve())


def test_a_served_fault_breaks_the_anthropic_sdk(serve: Callable[..., str]) -> None:
    """RELAY_DEFECTS #9: a content_block_delta before its content_block_start. The clean stream
    accumulates; on the faulty one the SDK's accumulator fails (an IndexError, as in
    anthropic-sdk-python#1192)."""
    body = {
        "model": "claude-sonnet-4-6",
        "max_tokens": 64,
        "messages": [{"role": "user", "content": "Say hello."}],
    }

    def final(url: str) -> object:
        client = anthropic.Anthropic(base_url=url, api_key=TEST_KEY, http_client=sdk_checks.live_client(anthropic))
        with client.messages.stream(**body) as stream:
            return stream.get_final_message()

    assert final(serve()).content[0].text.startswith("Hello!")  # type: ignore[attr-defined]
    faulty_url = serve("delta-before-start")
    with pytest.raises(Exception) as info:
        final(faulty_url)
    # The stream arrived; it is the SDK's accumulator that gave up, not the connection.
    assert not isinstance(info.value, (anthropic.APIConnectionError, anthropic.APIStatusError)), info.value


def test_a_served_fault_changes_what_the_openai_sdk_accumulates(serve: Callable[..., str]) -> None:
    """RELAY_DEFECTS #10: streamed tool arguments emptied. The SDK parses the stream but its
    accumulated arguments differ from the non-streamed answer's."""
    url = serve("stream-args-differ")
    client = openai.OpenAI(base_url=url + "/v1", api_key=TEST_KEY, http_client=sdk_checks.live_client(openai))
    plain = client.chat.completions.create(**sdk_checks.CHAT_BODY)
    with client.chat.completions.stream(**sdk_checks.CHAT_BODY) as stream:
        streamed = stream.get_final_completion()
    args = [c.function.arguments for c in plain.choices[0].message.tool_calls or []]
    assert args and all(a != "{}" for a in args)
    assert [c.function.arguments for c in streamed.choices[0].message.tool_calls or []] == ["{}"] * len(args)
