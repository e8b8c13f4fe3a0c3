"""The app's full screens: the cockpit, the post-mortem, the detail views, the too-small notice."""
