"""The store's protocols, one module an area, each with the records it keeps.

:class:`hub.store.base.Store` is their union: what callers type against. An area's
protocol names only the methods that area needs, so a component that touches one area can
say so (``def f(store: AlertStore)``) and a test double need implement only that part.
"""
