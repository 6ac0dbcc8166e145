"""Reference data shipped with ogi (read through ``importlib.resources``, never by path arithmetic):
the codebook and crosswalk, label variants and fixes, section/version markers, the template's
identities, prose patterns, the source registry and expected universe, and the demo websites."""
