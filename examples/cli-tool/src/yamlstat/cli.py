"""The `yamlstat` console script."""

from typing import TextIO

import click
import yaml


def count(node: object) -> int:
    if isinstance(node, dict):
        return len(node) + sum(count(v) for v in node.values())
    if isinstance(node, list):
        return len(node) + sum(count(v) for v in node)
    return 0


# Shown when no file is given, so `yamlstat` alone proves the package and libyaml load.
SAMPLE = "example: [1, 2, 3]\n"


@click.command()
@click.argument("source", type=click.File("r"), required=False)
def main(source: TextIO | None) -> None:
    """Print how many nodes each YAML document in SOURCE ("-" for stdin) holds."""
    # CSafeLoader exists only when PyYAML's C extension (libyaml) was built or shipped in the wheel.
    loader = "libyaml" if hasattr(yaml, "CSafeLoader") else "pure-python"
    text = source.read() if source is not None else SAMPLE
    for i, doc in enumerate(yaml.safe_load_all(text)):
        click.echo(f"yamlstat: document {i} has {count(doc)} nodes (pyyaml {yaml.__version__}, {loader})")
