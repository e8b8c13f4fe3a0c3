"""The Textual app: the cockpit screen, its panes and dialogs, and one stylesheet.

The only package that imports Textual; every change it makes goes through `cockpit.store`.
"""
