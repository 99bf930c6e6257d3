"""The app's sections (one Screen each) and its help screen."""
