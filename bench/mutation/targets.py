"""What `make mutate` mutates, and which test files may kill each target's mutants.

The one place to repoint after a refactor: `files` are globs from the repository root (a package
such as `cockpit/domain/*.py` works as well as one module), `functions` names the functions and
methods to mutate (`Store.publish`, `_insert_delivery`; empty: every function in the files), and
`tests` the test files whose coverage decides which tests run against each mutant.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Target:
    """One module (or a slice of one) under mutation."""

    name: str
    files: tuple[str, ...]
    tests: tuple[str, ...]
    functions: tuple[str, ...] = ()


TARGETS: tuple[Target, ...] = (
    Target(
        "domain",
        files=("cockpit/domain/*.py",),
        tests=(
            "tests/test_domain.py",
            "tests/test_domain_edges.py",
            "tests/test_mutants_domain.py",
            "tests/test_typed_times.py",
            "tests/test_stored_times.py",
            "tests/test_numbers.py",
            "tests/test_text_limits.py",
            "tests/test_terminal_safety.py",
            "tests/test_ambiguous_names.py",
            "tests/test_bad_input.py",
            "tests/test_store.py",
            "tests/test_postmortem_metrics.py",
            "tests/test_postmortem_store.py",
            "tests/test_postmortem_export.py",
            "tests/test_resolution_update.py",
        ),
    ),
    Target(
        "metrics",
        files=("cockpit/metrics.py",),
        tests=(
            "tests/test_postmortem_metrics.py",
            "tests/test_mutants_metrics.py",
            "tests/test_postmortem_export.py",
            "tests/test_postmortem_mermaid.py",
            "tests/test_postmortem_store.py",
            "tests/test_resolution_update.py",
        ),
    ),
    Target(
        "outbox",
        files=("cockpit/store/outbox.py",),
        tests=(
            "tests/test_outbox_claim.py",
            "tests/test_mutants_outbox.py",
            "tests/test_store.py",
            "tests/test_stored_times.py",
            "tests/test_comms_delivery.py",
            "tests/test_services_delivery.py",
            "tests/test_comms_render.py",
            "tests/test_resolution_update.py",
            "tests/test_postmortem_export.py",
        ),
    ),
    Target(
        "worker",
        files=("cockpit/comms/worker.py", "cockpit/comms/outcomes.py", "cockpit/comms/attempt.py"),
        tests=(
            "tests/test_outbox_claim.py",
            "tests/test_mutants_worker.py",
            "tests/test_worker_paths.py",
            "tests/test_delivery_timing.py",
            "tests/test_comms_delivery.py",
            "tests/test_services_delivery.py",
            "tests/test_comms_render.py",
            "tests/test_bad_responses.py",
            "tests/test_missing_secret.py",
            "tests/test_secrets.py",
            # The drill sink, team sync's root and an older update superseded: the worker's
            # paths that only these reach.
            "tests/drills/test_sink.py",
            "tests/sync/test_one_root.py",
            "tests/sync/test_side_effects.py",
        ),
    ),
)
