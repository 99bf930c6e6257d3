"""Loaded by Python at startup when this folder is on PYTHONPATH (see ../diskfull_kit.py):
makes the disk fill up as LYRICTUI_TEST_DISK_FULL says, before lyrictui runs."""

import os
import sys

if os.environ.get("LYRICTUI_TEST_DISK_FULL"):
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    import diskfull_kit

    diskfull_kit.install_from_env()
    sys.path.pop(0)
