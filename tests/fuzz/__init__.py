"""The ingest fuzzer: mutated device messages through decode, ingest and a real store.

Inputs come from a seeded, deterministic, mutation-based generator that starts from the
published contract examples (:mod:`tests.fuzz.seeds`, :mod:`tests.fuzz.mutate`,
:mod:`tests.fuzz.generate`). Each one goes the way the pipeline takes a message:
``Ingest.handle`` → ``Ingest.take`` (split like the pipeline does) → ``BatchCommit.run``
on a SQLite or PostgreSQL store (:mod:`tests.fuzz.drive`, :mod:`tests.fuzz.backends`).
The oracles (:mod:`tests.fuzz.oracle`) read the database back on their own connection:

- nothing escapes ``handle`` or the commit, and nothing ends as ``internal_error`` (a crash,
  kept in the corpus with its traceback, minimised when it replays alone:
  :mod:`tests.fuzz.corpus`);
- every refused input is exactly one dead letter with a known reason code and a detail;
- every accepted input is stored: rows per class and device match what ingest accepted,
  less what the store refused (each such message a ``store_refused`` dead letter), and a
  sample of rows reads back as ingest built it;
- silently dropped duplicates are counted apart, and the hub's own metrics agree.

Run ``make fuzz`` (10⁶ inputs on both back-ends) or ``python -m tests.fuzz --help``;
``tests/fuzz/test_fuzz.py`` runs a short pass in ``make test``.
"""
