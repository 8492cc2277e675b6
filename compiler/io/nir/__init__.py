"""NIR graphs (the Neuromorphic Intermediate Representation, `.nir` files): read them into
silifc's raw IR (`lower.load_nir`), with each producer's discretization (`dialects`), and
write silifc models NIR can express (`export.export_nir`). docs/nir.md."""
