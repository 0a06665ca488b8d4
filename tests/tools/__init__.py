"""Tests of the Qt-free editing tools."""
