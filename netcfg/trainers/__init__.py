"""Training: the Training and Evaluation specs, optimizers, the generic loop."""
