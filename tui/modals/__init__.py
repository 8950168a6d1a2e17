"""Modal dialogs: each returns a small value to the screen that opened it."""
