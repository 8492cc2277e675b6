"""Test harness of the C runtime (driver, case generators, build helpers)."""
