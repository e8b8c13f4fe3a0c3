"""The post-mortem: when it is due, the report read from the store, and its Markdown export.

Modules: `due` (due dates and what is pending), `report` (the figures and fields one export
shows), `render` (the document) with `tables` (metadata and metrics), `gantt` (the phases
chart) and `times` (how times are written), `export` (file names and writing). The model
(`Postmortem`, `ActionItem`, the fields) lives in `cockpit.domain.postmortem`, below the store
that persists it. Import from the module that holds a name: the package itself loads nothing, so
asking when a post-mortem is due does not load the renderer. Nothing here imports Textual.
"""
