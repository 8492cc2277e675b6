"""Package data of silifc (tools/: host tools, e.g. insncount/, the QEMU instruction-counting plugin):
found through importlib.resources."""
