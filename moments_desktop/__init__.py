"""Moments Desktop: test and preview Amazon Moments rewards."""

__version__ = "0.1.0"
APP_NAME = "Moments Desktop"
APP_ID = "moments-desktop"
