"""Modal dialogs (ModalScreen[T]) returning their result through dismiss()."""
