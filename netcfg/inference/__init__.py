"""Using trained models: recommendations (top-K), evaluation on any data, export."""
