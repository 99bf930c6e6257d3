"""Loaded by Python at startup when this folder is on PYTHONPATH (see fulldisk.py): makes the
disk fill up as LYRICTUI_TEST_DISK_FULL says, before lyrictui runs."""

import os

if os.environ.get("LYRICTUI_TEST_DISK_FULL"):
    import fulldisk

    fulldisk.install_from_env()
