"""FormDialog: the shared behaviour of lyrictui's form dialogs (Enter or OK submits, escape or
Cancel closes with None)."""

from __future__ import annotations

from typing import Generic, TypeVar

from textual.widgets import Button, Input

from lyrictui.dialogs.dialog import Dialog

T = TypeVar("T")


class FormDialog(Dialog[T | None], Generic[T]):
    """Subclasses compose a button with id "ok" (and "cancel") and implement `submit`."""

    def submit(self) -> None:
        """Validate the form and `dismiss` with the result, or show what is wrong."""
        raise NotImplementedError

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "ok":
            self.submit()
        else:
            self.dismiss(None)
