"""Security and audit for the shared kernel (docs/security.md).

policy        one access rule: jurisdiction subtree × role × category × purpose, break-glass
audit_log     audited reads: an audit event committed before any data is returned
personal_data per-person keys for personal fields; erasure by destroying the key
links         each event's chain link, MACed by the writing service in the event's transaction
row_seal      read-model rows sealed by the service: reads drop a row the database alone edited
chain         hash chain over stored events, signed checkpoints kept outside the database
verifier      checks a service's log against its checkpoints, names the first bad record
db_roles      a runtime database role that cannot UPDATE, DELETE or TRUNCATE event rows
cli           ``pingan audit verify|checkpoint|keygen``
"""
