"""What a long run must not keep per item (benchmarks/bench_memory.py measures the sum)."""

from __future__ import annotations

from harness import yamlpos


def test_loading_yaml_keeps_no_nodes() -> None:
    # The shared constructor used to remember every node (and its marks) of every file loaded.
    for n in range(3):
        doc = yamlpos.load(f"cases:\n  - id: c{n}\n    request: {{body: {{messages: [a, b]}}}}\n")
        assert doc.value["cases"][0]["id"] == f"c{n}"
        assert not yamlpos._constructor.constructed_objects
    try:
        yamlpos.load("a: 1\na: 2\n")  # a duplicate key stops the build half-way
    except yamlpos.YamlError:
        pass
    assert not yamlpos._constructor.constructed_objects
