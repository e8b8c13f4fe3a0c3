"""The app's dialogs: modal screens that ask for one thing and write it through the core."""
