"""Package data of silifc (templates/): found through importlib.resources."""
