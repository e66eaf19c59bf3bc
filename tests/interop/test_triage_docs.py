"""docs/interop.md stays in step with what the interop tests hold the peers to (offline, no peer)."""

from __future__ import annotations

import pytest

from tests.interop import peers, triage

DOC = (peers.REPO / "docs" / "interop.md").read_text(encoding="utf-8")
PEERS = sorted(p.stem for p in (peers.HERE / "expected").glob("*.yaml"))


@pytest.mark.parametrize("peer", PEERS)
def test_every_triaged_item_is_listed_in_the_doc(peer: str) -> None:
    assert triage.markdown(peer) in DOC, f"regenerate the appendix: python tests/interop/triage.py --markdown {peer}"


def test_the_doc_names_the_pinned_versions() -> None:
    v = peers.versions()
    for key in ("LITELLM_VERSION", "CCR_VERSION", "PORTKEY_VERSION"):
        assert f"| {v[key]} |" in DOC, key
    assert v["LITELLM_VERSION"] == "1.106.2"  # never another: two releases were compromised (BerriAI/litellm#24518)


def test_expected_files_hold_findings_with_codes() -> None:
    assert set(PEERS) == {"litellm", "ccr", "portkey-openai", "portkey-anthropic"}
    for peer in PEERS:
        found = peers.expected(peer)
        assert found and all(codes for codes in found.values()), peer
