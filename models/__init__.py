"""Package data of silifc (models/): found through importlib.resources."""
