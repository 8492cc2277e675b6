"""Package data of silifc (runtime_c/): found through importlib.resources."""
