"""The monthly processes of the model, one module each, in schedule order.

``recruitment`` (month 0 and later waves), ``forum``, ``followup``, ``interaction``,
``review``, ``emergence``, ``decay``. Each module holds one submodel of ``docs/odd.md`` as
functions of the model's array state, so it can be read and tested on its own.
"""

__all__ = ["decay", "emergence", "followup", "forum", "interaction", "recruitment", "review"]
