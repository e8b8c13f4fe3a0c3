"""The post-mortem: when it is due, the report read from the store, and its Markdown export.

Modules: `due` (due dates and what is pending), `report` (the figures and fields one export
shows), `render` (the document) with `tables` (metadata and metrics), `gantt` (the phases
chart) and `times` (how times are written), `export` (file names and writing). The model
(`Postmortem`, `ActionItem`, the fields) lives in `cockpit.domain.postmortem`, below the store
that persists it; it is re-exported here. Nothing here imports Textual.
"""

from __future__ import annotations

from cockpit.domain.postmortem import (
    FIELD_HINTS,
    FIELD_LABELS,
    FIELDS,
    TEXT_FIELDS,
    ActionItem,
    ItemState,
    Postmortem,
    field_value,
    normalize_field_name,
    parse_deadline,
    parse_item_state,
    whys_from_text,
)
from cockpit.postmortem.due import Pending, PendingPostmortem, pending, postmortem_due_at
from cockpit.postmortem.export import (
    export_filename,
    export_markdown,
    export_path,
    slug,
    write_export,
)
from cockpit.postmortem.render import BLAMELESS_NOTE, KIND_LABELS, SECTIONS, render_markdown
from cockpit.postmortem.report import (
    METRIC_KINDS,
    STATUS_PAGE_REFS,
    STATUSPAGE_MANAGE_URL,
    Report,
    TimelineRow,
    build_report,
    status_page_link,
)

__all__ = [
    "BLAMELESS_NOTE",
    "FIELDS",
    "FIELD_HINTS",
    "FIELD_LABELS",
    "KIND_LABELS",
    "METRIC_KINDS",
    "SECTIONS",
    "STATUSPAGE_MANAGE_URL",
    "STATUS_PAGE_REFS",
    "TEXT_FIELDS",
    "ActionItem",
    "ItemState",
    "Pending",
    "PendingPostmortem",
    "Postmortem",
    "Report",
    "TimelineRow",
    "build_report",
    "export_filename",
    "export_markdown",
    "export_path",
    "field_value",
    "normalize_field_name",
    "parse_deadline",
    "parse_item_state",
    "pending",
    "postmortem_due_at",
    "render_markdown",
    "slug",
    "status_page_link",
    "whys_from_text",
    "write_export",
]
