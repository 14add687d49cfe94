"""carehub: the composition root.

``carehub serve``, the CLI and the demo wire hub, alerts and the dashboard together.
"""
