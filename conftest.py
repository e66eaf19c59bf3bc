"""Project-level pytest configuration, deliberately thin.

The relaycheck plugin (options, case-file collection, the session fixture, reports) is
registered through the ``pytest11`` entry point when the package is installed, so it is not
listed here: registering it twice would be an error. Put fixtures that your own case files or
Python tests share in this file.
"""
