"""The widgets the screens are built from: panes, the timeline, the runbook, the delivery line."""
