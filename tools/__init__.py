"""Package data of silifc (tools/: host tools such as the QEMU instruction-counting plugin): found through
importlib.resources."""
