"""Fidelity probes: is the relay honest, and is it what it claims? (docs/fidelity.md)

Format conformance (`relaycheck run`) judges the bytes; these probes judge what well-formed answers
say about the relay: usage accounting (tokenizer fingerprint, injected prompts, inflated counts,
output and streamed usage), parameters honoured, context integrity, negative controls of the
claimed upstream and prompt caching. Each verdict is consistent, inconsistent or inconclusive,
with its numbers. A model's own answer about its identity is never used as evidence.
"""
