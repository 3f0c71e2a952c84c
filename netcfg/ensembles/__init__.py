"""Ensembles: several configs trained apart whose predicted ratings are averaged."""
