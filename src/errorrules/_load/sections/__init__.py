"""The section builders: checked YAML sections → model records, one module per family.

Each builder is a function of a shared :class:`~.context.Context` (the problems found so
far, the declared incident fields and the condition field types) and the section's node.
``catalogue`` (ruleset meta, duty areas, scales), ``fields`` (the incident schema),
``errors`` (error definitions and severity rules), ``timing`` (time anchors, limitation),
``history`` (windows, history facts, ladders), ``derived`` (derived facts), ``factors``,
``responsibility`` (roles, allocations), ``consequences`` (the schedule, combination) and
``assessment``. :mod:`errorrules._load.build` calls them in a fixed order, since later
sections resolve names the earlier ones declared.
"""
