"""lyrictui: write lyrics in the terminal with next-line suggestions from GPT-2 fine-tuned locally."""

__version__ = "0.1.0"
