#!/usr/bin/env python
"""The demo's manage.py: the same project serves the ``web`` and ``api`` roles."""

import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "courses.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
