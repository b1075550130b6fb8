"""The journal: the append-only, hash-chained record of every decision and change, kept as
evidence.

    records.py       the format: one JSON object a line, seq + prev + hash, read strictly
    files.py         bytes on disk: every write checked and fsynced, private directories
    store.py         Journal: append durably or raise, one writer per file, verify before
                     writing; `repair` of a torn tail; what the journal says is still cut
    verification.py  the chain, and its head against anchors: the verdict and its words
    anchor.py        heads kept outside the controller (an anchor directory, signed lines)
    keys.py          the crisis cell's Ed25519 keys (anchors, signed reports)
    lock.py          one run at a time per network: machine-wide locks per device address
    snapshots.py     device configurations, written atomically under their hash

The errors (isolement/model/errors.py):

    JournalError          the journal cannot be read as evidence, or cannot be written
    ├── JournalWriteError a record or snapshot could not be written durably: the run stops
    └── JournalAltered    it fails verification: nothing acts on it without an override
    LockedError           another run holds this journal, or devices of this network

Nothing is imported here, so that each module can be imported on its own.
"""
