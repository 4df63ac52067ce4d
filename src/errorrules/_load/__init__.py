"""Stage 3, load and validate: files → located YAML nodes → checked sections → the model.

Owns the safe YAML loader (``yaml``: no aliases, no custom tags, marks kept), the file schema
(``schema``: the document in ``ruleset_schema``, the validator in ``validate``, reporting
every problem at once like jsonschema's ``iter_errors``), reading a folder (``files``),
version overlays (``overlay``), the section builders that turn nodes into model records
(``sections``, one module per section family, driven in order by ``build``), and incident
checking (``incident``, ``incident_schema``): the one door through which facts reach an engine.
May import: ``_base``, ``_lang``, ``_model``.
"""
