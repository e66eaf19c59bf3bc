"""Mutation operators for the Messages dialect (filled in below)."""

from __future__ import annotations

from tests.truth.mutation import Mutation

MUTATIONS: list[Mutation] = []
