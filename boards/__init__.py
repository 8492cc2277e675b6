"""Package data of silifc (boards/): found through importlib.resources."""
