"""Which distributions go into which Lambda layer: a pure function of sizes, unit-tested on numbers alone.

The auto plan keeps the app's code and its light dependencies in the function and gives each heavy distribution
(at least `heavy_bytes` unzipped: compiled libraries such as numpy or pyarrow, pinned by version, that change far
less often than the app) a layer of its own, so that a change to the app or to a light dependency, or a bump of
one heavy one, leaves every other layer zip byte-identical and the deploy re-uploads nothing else. With more
heavy distributions than free layer slots, the biggest ones keep their own layers and the rest share the last
one. A distribution is never split across artifacts. Lambda allows 5 layers, minus those the user attaches
already, and 262,144,000 bytes unzipped for the function and all its layers together.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from lambda_slim import _sizes
from lambda_slim._artifacts.inventory import APP, Inventory
from lambda_slim._errors import SlimError
from lambda_slim._sizes import human

DEFAULT_HEAVY_BYTES = 5 * 1024 * 1024
SHARED_LAYER = "shared"


class LayerError(SlimError):
    """No split of the package fits Lambda's limits, or the configured layers are not possible."""


@dataclass(frozen=True)
class Weight:
    distribution: str
    unzipped_bytes: int


@dataclass(frozen=True)
class LayerSpec:
    name: str
    distributions: tuple[str, ...]


@dataclass(frozen=True)
class LayerSettings:
    """How the package is split: `mode` "none", "auto" (each distribution of at least `heavy_bytes` its own layer)
    or "groups" (`groups` says which layer holds what), and the layers the function has already, not ours."""

    mode: str = "none"
    groups: tuple[tuple[str, tuple[str, ...]], ...] = ()
    heavy_bytes: int = DEFAULT_HEAVY_BYTES
    external_layers: int = 0
    external_bytes: int = 0


@dataclass(frozen=True)
class LayerPlan:
    layers: tuple[LayerSpec, ...]

    def layer_of(self, distribution: str) -> str | None:
        for layer in self.layers:
            if distribution in layer.distributions:
                return layer.name
        return None


def check_fits(weights: Sequence[Weight], external_bytes: int = 0, limit: int | None = None) -> None:
    """Fail, saying by how much and what is biggest, when the package cannot fit however it is split."""
    limit = _sizes.UNZIPPED_LIMIT if limit is None else limit
    total = sum(w.unzipped_bytes for w in weights) + external_bytes
    if total <= limit:
        return
    biggest = sorted(weights, key=lambda w: (-w.unzipped_bytes, w.distribution))[:5]
    listed = ", ".join(f"{w.distribution} {human(w.unzipped_bytes)}" for w in biggest)
    alone = [w for w in biggest if w.unzipped_bytes > limit]
    lead = (
        f"{alone[0].distribution} alone is {alone[0].unzipped_bytes:,} bytes unzipped, over Lambda's limit of "
        f"{limit:,} bytes for a function and its layers together"
        if alone
        else f"the package is {total:,} bytes unzipped"
        + (f" (with {external_bytes:,} bytes of your own layers)" if external_bytes else "")
        + f", {total - limit:,} bytes ({human(total - limit)}) over Lambda's limit of {limit:,} bytes for a function "
        "and its layers together"
    )
    raise LayerError(
        f"{lead}; no split into layers can fit it. Biggest: {listed}. Options: exclude what the app does not "
        "use ([tool.slim] exclude), drop bytecode for some packages (keep sources only), leave a package out and "
        "provide it otherwise, or deploy a container image (10 GB): `slim build --image` writes its Dockerfile."
    )


def plan_auto(
    weights: Sequence[Weight],
    *,
    slots: int = _sizes.MAX_LAYERS,
    heavy_bytes: int = DEFAULT_HEAVY_BYTES,
    external_bytes: int = 0,
    limit: int | None = None,
) -> LayerPlan:
    check_fits(weights, external_bytes, limit)
    if slots <= 0:
        return LayerPlan(())
    heavy = sorted(
        (w for w in weights if w.distribution != APP and w.unzipped_bytes >= heavy_bytes),
        key=lambda w: (-w.unzipped_bytes, w.distribution),
    )
    if len(heavy) <= slots:
        own, shared = heavy, []
    else:
        own, shared = heavy[: slots - 1], heavy[slots - 1 :]
    layers = [LayerSpec(w.distribution, (w.distribution,)) for w in own]
    if shared:
        layers.append(LayerSpec(SHARED_LAYER, tuple(sorted(w.distribution for w in shared))))
    return LayerPlan(tuple(sorted(layers, key=lambda layer: layer.name)))


def plan_explicit(
    weights: Sequence[Weight],
    groups: Mapping[str, Sequence[str]],
    *,
    slots: int = _sizes.MAX_LAYERS,
    external_bytes: int = 0,
    limit: int | None = None,
) -> LayerPlan:
    check_fits(weights, external_bytes, limit)
    if len(groups) > slots:
        raise LayerError(
            f"[tool.slim.layers] names {len(groups)} layers, but only {slots} are free (Lambda allows "
            f"{_sizes.MAX_LAYERS}, minus external-layers): merge some groups."
        )
    present = {w.distribution for w in weights}
    seen: dict[str, str] = {}
    layers = []
    for name, members in sorted(groups.items()):
        for member in members:
            if member not in present:
                raise LayerError(
                    f"[tool.slim.layers] {name} names {member!r}, which this build does not install: "
                    f"the distributions are {', '.join(sorted(present - {APP}))}."
                )
            if member in seen:
                raise LayerError(f"{member!r} is in two layers, {seen[member]} and {name}: a distribution goes in one.")
            seen[member] = name
        layers.append(LayerSpec(name, tuple(sorted(members))))
    return LayerPlan(tuple(layers))


def plan_for(inventory: Inventory, settings: LayerSettings, limit: int | None = None) -> LayerPlan:
    """The layers for the slimmed tree's distributions, as the settings ask. `limit`: the unzipped bytes the split
    must fit in (default Lambda's for zips; a build with --image passes the container image's)."""
    weights = [Weight(name, sum(f.size for f in files)) for name, files in sorted(inventory.distributions().items())]
    slots = _sizes.MAX_LAYERS - settings.external_layers
    if settings.mode == "auto":
        return plan_auto(
            weights, slots=slots, heavy_bytes=settings.heavy_bytes, external_bytes=settings.external_bytes, limit=limit
        )
    if settings.mode == "groups":
        return plan_explicit(
            weights, dict(settings.groups), slots=slots, external_bytes=settings.external_bytes, limit=limit
        )
    return LayerPlan(())
